import 'reflect-metadata';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { eachDatabase, type TestDatabase } from '../support/databases.js';
import { raceRounds } from '../support/races.js';
import { sleep } from '../support/time.js';
import { login, registerAndLogin, startSample, type RunningSample } from '../support/sample-app.js';

const ROUNDS = raceRounds();

/**
 * Issue 10, finding 1, as an attacker plays it against the sample: they hold
 * the old password and keep logging in while the victim changes it. Every
 * login the sample answered with tokens checked the old password, so none may
 * work once the change is done, whichever answered first.
 */
eachDatabase('a login racing a password change (sample app)', (db: () => TestDatabase) => {
  let sample: RunningSample;

  beforeAll(async () => {
    sample = await startSample(db().fresh());
  });

  afterAll(() => sample?.close());

  it(`no attacker session outlives the change (${ROUNDS} rounds)`, async () => {
    const survivors: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const username = `race.victim${round}`;
      const victim = await registerAndLogin(sample.http, username, 'old password 123');
      const attacks = Array.from({ length: 6 }, (_, i) =>
        sleep(i % 3).then(() =>
          sample.http
            .post('/auth/login')
            .set('User-Agent', 'attacker')
            .send({ username, password: 'old password 123' }),
        ),
      );
      const change = sleep(1).then(() =>
        sample.http
          .post('/auth/change-password')
          .set(victim.auth)
          .send({ currentPassword: 'old password 123', newPassword: 'new password 456' }),
      );
      const answers = await Promise.all(attacks);
      expect((await change).status).toBe(204);
      // The other order on purpose, every round: a login after the change is refused.
      const late = await sample.http
        .post('/auth/login')
        .set('User-Agent', 'attacker')
        .send({ username, password: 'old password 123' });
      expect(late.status).toBe(401);
      for (const answer of answers) {
        // Refused: the login checked the password after the change. Whichever way
        // each one went is up to the race; what it was given must die either way.
        if (answer.status === 401) continue;
        expect(answer.status).toBe(200);
        const me = await sample.http.get('/me').set('Authorization', `Bearer ${answer.body.accessToken}`);
        if (me.status !== 401) survivors.push(`round ${round}: GET /me ${me.status}`);
        const refreshed = await sample.http.post('/auth/refresh').send({ refreshToken: answer.body.refreshToken });
        if (refreshed.status !== 401) survivors.push(`round ${round}: refresh ${refreshed.status}`);
      }
      // The victim's own session stays, and the new password works.
      await sample.http.get('/me').set(victim.auth).expect(200);
      await login(sample.http, username, 'new password 456');
    }
    expect(survivors).toEqual([]);
  });
});
