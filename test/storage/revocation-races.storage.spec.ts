import 'reflect-metadata';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import {
  CredentialsChangedException,
  CurrentToken,
  InvalidTokenException,
  Logout,
  LogoutAll,
  type IssuedTokens,
  type VerifiedToken,
} from 'nestjs-jwt-revocation';
import request from 'supertest';
import { eachDatabase, type TestDatabase } from '../support/databases.js';
import { forge } from '../support/forge.js';
import { bootModule, claimsOf, entities, type ModuleApp } from '../support/module-app.js';
import { raceRounds } from '../support/races.js';
import { sleep } from '../support/time.js';
import { TEST_SECRET } from '../support/keys.js';

/**
 * Issue 10, findings 1, 2 and 9: once a session or a subject is revoked,
 * nothing issued before keeps working, however the calls interleave. Each
 * race runs `raceRounds()` times (RACE_ROUNDS=50 for the long run).
 */
@Controller()
class AccountController {
  @Get('probe')
  probe(@CurrentToken() token: VerifiedToken) {
    return { sid: token.sid };
  }

  @Post('logout')
  @HttpCode(204)
  @Logout()
  logout(): void {}

  @Post('logout-all')
  @HttpCode(204)
  @LogoutAll()
  logoutAll(): void {}
}

const ROUNDS = raceRounds();

async function status(m: ModuleApp, method: 'get' | 'post', path: string, accessToken: string): Promise<number> {
  return (await request(m.app.getHttpServer())[method](path).set('Authorization', `Bearer ${accessToken}`)).status;
}

/** Whether a pair still works anywhere: the guard lets its access token through, or its refresh token refreshes. */
async function stillWorks(m: ModuleApp, tokens: IssuedTokens): Promise<string[]> {
  const alive: string[] = [];
  if ((await status(m, 'get', '/probe', tokens.accessToken)) === 200) alive.push('access token');
  if (
    await m.tokens.refresh(tokens.refreshToken).then(
      () => true,
      () => false,
    )
  )
    alive.push('refresh token');
  return alive;
}

const settle = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );

eachDatabase('revocation holds under races', (db: () => TestDatabase) => {
  let m: ModuleApp;
  let database: TestDatabase;

  beforeAll(async () => {
    database = db();
    m = await bootModule(database.fresh(), {}, { controllers: [AccountController] });
  });

  afterAll(() => m?.close());

  it(`a login racing logout everywhere leaves nothing issued before it alive (${ROUNDS} rounds)`, async () => {
    const survivors: string[] = [];
    let before = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const subject = `race-all-${round}`;
      const first = await m.tokens.issue(subject);
      // Logins spread around the revocation, so some land on either side and some in it.
      const logins = Array.from({ length: 6 }, (_, i) => sleep(i % 3).then(() => m.tokens.issue(subject)));
      const revoke = sleep(1).then(() => m.tokens.revokeAllForSubject(subject));
      const issued = [first, ...(await Promise.all(logins))];
      await revoke;
      const { tokenVersion } = await m.source.getRepository(entities.subjectState).findOneByOrFail({ subject });
      for (const pair of issued) {
        // A token of the version before the revocation was issued before it, and must be dead everywhere.
        if (claimsOf(pair.accessToken).ver >= tokenVersion) continue;
        before++;
        for (const part of await stillWorks(m, pair))
          survivors.push(`round ${round}: ${part} of session ${pair.sessionId}`);
      }
    }
    expect(survivors).toEqual([]);
    expect(before).toBeGreaterThanOrEqual(ROUNDS);
  });

  it('issue() given an epoch from before a password change refuses with a 401, and one read after works', async () => {
    const kept = await m.tokens.issue('epoch.ann');
    const epoch = await m.tokens.subjectEpoch('epoch.ann');
    await m.tokens.revokeOtherSessions('epoch.ann', kept.sessionId, 'password_change');
    const refused = await settle(m.tokens.issue('epoch.ann', {}, { epoch }));
    expect((refused as { error: unknown }).error).toBeInstanceOf(CredentialsChangedException);
    expect((refused as { error: CredentialsChangedException }).error.getStatus()).toBe(401);
    const fresh = await m.tokens.subjectEpoch('epoch.ann');
    expect(fresh).toBeGreaterThan(epoch);
    await expect(m.tokens.issue('epoch.ann', {}, { epoch: fresh })).resolves.toMatchObject({
      sessionId: expect.any(String),
    });
    // Logout everywhere moves the epoch too.
    await m.tokens.revokeAllForSubject('epoch.ann');
    await expect(m.tokens.issue('epoch.ann', {}, { epoch: fresh })).rejects.toBeInstanceOf(CredentialsChangedException);
    await expect(m.tokens.issue('epoch.ann', {}, { epoch: 'x' as unknown as number })).rejects.toBeInstanceOf(
      TypeError,
    );
  });

  it(`a login that checked credentials before a password change never outlives it (${ROUNDS} rounds)`, async () => {
    const survivors: string[] = [];
    let refused = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const subject = `race-password-${round}`;
      const kept = await m.tokens.issue(subject);
      // The attacker's logins all checked the old password: they read the epoch before the change.
      const epoch = await m.tokens.subjectEpoch(subject);
      const logins = Array.from({ length: 6 }, (_, i) =>
        sleep(i % 3).then(() => m.tokens.issue(subject, {}, { epoch })),
      );
      const change = sleep(1).then(() => m.tokens.revokeOtherSessions(subject, kept.sessionId, 'password_change'));
      const results = await Promise.all(logins.map(settle));
      await change;
      for (const result of results) {
        if ('error' in result) {
          expect(result.error).toBeInstanceOf(CredentialsChangedException);
          refused++;
          continue;
        }
        for (const part of await stillWorks(m, result.value))
          survivors.push(`round ${round}: ${part} of session ${result.value.sessionId}`);
      }
      expect(await status(m, 'get', '/probe', kept.accessToken)).toBe(200);
    }
    expect(survivors).toEqual([]);
    expect(refused).toBeGreaterThan(0);
  });

  it(`@Logout() and @LogoutAll() kill the presented token even when the log never saw its session (${ROUNDS} rounds)`, async () => {
    const foreign = (sub: string, ver: number) => {
      const now = Math.floor(Date.now() / 1000);
      const id = () => Math.random().toString(36).slice(2);
      return forge(
        { alg: 'HS256', typ: 'at+jwt' },
        { sub, jti: id(), sid: id(), ver, iat: now, exp: now + 600 },
        TEST_SECRET,
      );
    };
    for (let round = 0; round < ROUNDS; round++) {
      const one = foreign(`foreign-${round}`, 0);
      expect(await status(m, 'get', '/probe', one)).toBe(200);
      const [logout, during] = await Promise.all([status(m, 'post', '/logout', one), status(m, 'get', '/probe', one)]);
      expect(logout).toBe(204);
      expect([200, 401]).toContain(during);
      expect(await status(m, 'get', '/probe', one)).toBe(401);
      // A version the subject never reached does not escape logout everywhere either.
      const all = foreign(`foreign-all-${round}`, 99);
      expect(await status(m, 'get', '/probe', all)).toBe(200);
      expect(await status(m, 'post', '/logout-all', all)).toBe(204);
      expect(await status(m, 'get', '/probe', all)).toBe(401);
    }
    const remembered = foreign('foreign-restart', 0);
    expect(await status(m, 'post', '/logout', remembered)).toBe(204);
    // A restarted instance loads it from the database: the revocation was written, not only kept in memory.
    await m.close();
    m = await bootModule(database.reopen(), {}, { controllers: [AccountController] });
    expect(await status(m, 'get', '/probe', remembered)).toBe(401);
  });

  it('a logout of a known session still answers 204 and kills it, and an already revoked token gets 401', async () => {
    const pair = await m.tokens.issue('logout.known');
    expect(await status(m, 'post', '/logout', pair.accessToken)).toBe(204);
    expect(await stillWorks(m, pair)).toEqual([]);
    expect(await status(m, 'post', '/logout', pair.accessToken)).toBe(401);
  });

  it('logout() is what the decorators call: the refresh token dies with the session', async () => {
    const pair = await m.tokens.issue('logout.refresh');
    await m.tokens.logout(claimsOf(pair.accessToken));
    await expect(m.tokens.refresh(pair.refreshToken)).rejects.toBeInstanceOf(InvalidTokenException);
  });
});
