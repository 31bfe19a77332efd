import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { getDataSourceToken } from '@nestjs/typeorm';
import { jwtRevocationEntitySet } from 'nestjs-jwt-revocation/testing';
import type { DataSource } from 'typeorm';
import { eachDatabase, type TestDatabase } from '../support/databases.js';
import { raceRounds } from '../support/races.js';
import { login, registerAndLogin, startSample, type RunningSample } from '../support/sample-app.js';
import { jtiOf, sidOf } from '../support/sample-tokens.js';
import { liveRefreshRows, rowsOf, sha256 } from '../support/token-rows.js';

const ROUNDS = raceRounds();

const CLIENT = { id: 'resource-server', secret: 'introspection secret' };
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

eachDatabase('refresh, revoke and introspect over HTTP', (database) => {
  let db: TestDatabase;
  let sample: RunningSample;

  beforeAll(async () => {
    db = database();
    sample = await startSample(db.fresh(), { introspectionClient: CLIENT });
  });
  afterAll(async () => {
    await sample?.close();
  });

  it('ten parallel refresh requests with one token: every answer is the same pair, one chain lives', async () => {
    const user = await registerAndLogin(sample.http, 'par.alice');
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => sample.http.post('/auth/refresh').send({ refreshToken: user.refreshToken })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(new Set(answers.map((a) => a.body.refreshToken)).size).toBe(1);
    const next = answers[0].body;
    await sample.http.get('/me').set('Authorization', `Bearer ${next.accessToken}`).expect(200);
    await sample.http.post('/auth/refresh').send({ refreshToken: next.refreshToken }).expect(200);
  });

  if (database().name !== 'sqlite') {
    // SQLite: one process owns the file; two instances on it are not a deployment.
    it('parallel refreshes through two app instances on one database: one chain', async () => {
      const second = await startSample(db.reopen(), { introspectionClient: CLIENT });
      const instances = [sample, second];
      const me = (instance: RunningSample, accessToken: string) =>
        instance.http.get('/me').set('Authorization', `Bearer ${accessToken}`);
      try {
        for (let round = 0; round < ROUNDS; round++) {
          const user = await registerAndLogin(sample.http, `par.bob${round}`);
          const sid = sidOf(user.accessToken);
          const answers = await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              instances[i % 2].http.post('/auth/refresh').send({ refreshToken: user.refreshToken }),
            ),
          );
          // Whichever instance wrote the successor, every caller on either instance gets that same pair.
          expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
          const pair = answers[0].body as { accessToken: string; refreshToken: string };
          expect(new Set(answers.map((a) => a.body.refreshToken))).toEqual(new Set([pair.refreshToken]));
          expect(new Set(answers.map((a) => jtiOf(a.body.accessToken)))).toEqual(new Set([jtiOf(pair.accessToken)]));
          expect(answers.every((a) => sidOf(a.body.accessToken) === sid)).toBe(true);
          // In the database: the login's token spent, one successor pair, one live chain ending in it.
          const rows = await rowsOf(sample.app, sid);
          expect(rows.filter((r) => r.tokenType === 'refresh')).toHaveLength(2);
          expect(rows.filter((r) => r.tokenType === 'access')).toHaveLength(2);
          const live = await liveRefreshRows(sample.app, sid);
          expect(live).toHaveLength(1);
          expect(live[0].tokenHash).toBe(sha256(pair.refreshToken));
          // Each instance has its own guard: the pair passes both, and the chain goes on from either.
          for (const instance of instances) await me(instance, pair.accessToken).expect(200);
          const next = await instances[round % 2].http
            .post('/auth/refresh')
            .send({ refreshToken: pair.refreshToken })
            .expect(200);
          for (const instance of instances) await me(instance, next.body.accessToken).expect(200);
        }
      } finally {
        await second.close();
      }
    });
  }

  it('type confusion: a refresh token at a guarded route and an access token at /auth/refresh are both 401', async () => {
    const user = await registerAndLogin(sample.http, 'type.gina');
    await sample.http.get('/me').set('Authorization', `Bearer ${user.refreshToken}`).expect(401);
    await sample.http.post('/auth/refresh').send({ refreshToken: user.accessToken }).expect(401);
    await sample.http.get('/me').set(user.auth).expect(200);
  });

  it(`a refresh racing logout-all never leaves a token alive (${ROUNDS} rounds)`, async () => {
    const tokenLog = sample.app.get<DataSource>(getDataSourceToken()).getRepository(jwtRevocationEntitySet().tokenLog);
    const spent = async (refreshToken: string) =>
      (await tokenLog.findOneByOrFail({ tokenHash: sha256(refreshToken) })).spentAt !== null;
    const refresh = (refreshToken: string) => sample.http.post('/auth/refresh').send({ refreshToken });
    const expectDead = async (pair: { accessToken: string; refreshToken: string }) => {
      await sample.http.get('/me').set('Authorization', `Bearer ${pair.accessToken}`).expect(401);
      await refresh(pair.refreshToken).expect(401);
    };

    // Each order once, played in turn: a refresh answered first hands out a working pair that logout-all then kills...
    const early = await registerAndLogin(sample.http, 'race.carol');
    const won = (await refresh(early.refreshToken).expect(200)).body as { accessToken: string; refreshToken: string };
    await sample.http.get('/me').set('Authorization', `Bearer ${won.accessToken}`).expect(200);
    await sample.http.post('/auth/logout-all').set(early.auth).expect(204);
    await expectDead(won);
    await expectDead(early);
    // ...and a refresh after logout-all is a 401 that spends nothing.
    const late = await login(sample.http, 'race.carol');
    await sample.http.post('/auth/logout-all').set(late.auth).expect(204);
    await refresh(late.refreshToken).expect(401);
    expect(await spent(late.refreshToken)).toBe(false);

    // At once: whichever side got there first, the outcome is the one its order gives.
    for (let round = 0; round < ROUNDS; round++) {
      const user = await login(sample.http, 'race.carol');
      const [refreshed, loggedOut] = await Promise.all([
        refresh(user.refreshToken),
        sample.http.post('/auth/logout-all').set(user.auth),
      ]);
      expect(loggedOut.status).toBe(204);
      if (refreshed.status === 200) {
        expect(await spent(user.refreshToken)).toBe(true);
        await expectDead(refreshed.body);
      } else {
        expect(refreshed.status).toBe(401);
        expect(await spent(user.refreshToken)).toBe(false);
      }
      await expectDead(user);
    }
  });

  it('POST /oauth/revoke: 200 always; a refresh token takes its session, form-encoded or JSON, any hint', async () => {
    const user = await registerAndLogin(sample.http, 'rev.dave');
    await sample.http
      .post('/oauth/revoke')
      .type('form')
      .send({ token: user.refreshToken, token_type_hint: 'access_token' })
      .expect(200, {});
    await sample.http.get('/me').set(user.auth).expect(401);
    await sample.http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
    for (const body of [
      { token: user.refreshToken },
      { token: 'garbage' },
      {},
      { token: 42 },
      { token: 'a.b.c', token_type_hint: 'nonsense' },
    ]) {
      await sample.http.post('/oauth/revoke').send(body).expect(200, {});
    }
    const again = await registerAndLogin(sample.http, 'rev.erin');
    await sample.http.post('/oauth/revoke').send({ token: again.accessToken }).expect(200);
    await sample.http.get('/me').set(again.auth).expect(401);
    await sample.http.post('/auth/refresh').send({ refreshToken: again.refreshToken }).expect(200);
  });

  it('POST /oauth/introspect: client credentials required; RFC 7662 answers', async () => {
    const user = await registerAndLogin(sample.http, 'intro.frank');
    await sample.http.post('/oauth/introspect').send({ token: user.accessToken }).expect(401);
    await sample.http
      .post('/oauth/introspect')
      .set('Authorization', basic(CLIENT.id, 'wrong'))
      .send({ token: user.accessToken })
      .expect(401);
    await sample.http
      .post('/oauth/introspect')
      .set('Authorization', 'Basic %%%')
      .send({ token: user.accessToken })
      .expect(401);
    const auth = basic(CLIENT.id, CLIENT.secret);
    const live = await sample.http
      .post('/oauth/introspect')
      .set('Authorization', auth)
      .type('form')
      .send({ token: user.accessToken })
      .expect(200);
    expect(live.body).toMatchObject({
      active: true,
      token_type: 'access_token',
      sub: expect.any(String),
      jti: expect.any(String),
      sid: expect.any(String),
      exp: expect.any(Number),
      iat: expect.any(Number),
    });
    const refresh = await sample.http
      .post('/oauth/introspect')
      .set('Authorization', auth)
      .send({ token: user.refreshToken, token_type_hint: 'refresh_token' })
      .expect(200);
    expect(refresh.body).toMatchObject({ active: true, token_type: 'refresh_token' });
    await sample.http.post('/auth/logout').set(user.auth).expect(204);
    await sample.http
      .post('/oauth/introspect')
      .set('Authorization', auth)
      .send({ token: user.accessToken })
      .expect(200, { active: false });
    await sample.http
      .post('/oauth/introspect')
      .set('Authorization', auth)
      .send({ token: 'garbage' })
      .expect(200, { active: false });
  });
});
