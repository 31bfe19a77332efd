import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { JwtRevocationModuleOptions } from 'nestjs-jwt-revocation';
import { RevocationState } from 'nestjs-jwt-revocation/testing';
import { databaseOptions } from '../../../sample/config.js';
import { tempSqliteFile } from '../../support/databases.js';
import { decodePart, forge } from '../../support/forge.js';
import { startGuardApp, tokensOf, WhoController } from '../../support/guard-app.js';
import { bearer, expect401 } from '../../support/http.js';
import { TEST_SECRET } from '../../support/keys.js';
import { bootModule } from '../../support/module-app.js';
import { appForSuite } from '../../support/suite-app.js';
import { eachAdapter, type HttpAdapterName, type RunningTestApp } from '../../support/test-app.js';

const options: JwtRevocationModuleOptions = { signing: { secret: TEST_SECRET }, mode: 'allowlist' };

/** The app under test, guarded, on an SQLite file another instance may share. */
const start = (file: string, adapter: HttpAdapterName) =>
  startGuardApp(options, { database: databaseOptions(`sqlite:${file}`), controllers: [WhoController], adapter });

/**
 * Another instance of the app on the same database, alive at the same time:
 * each module's guard asks its own AccessTokenCheck, so the two cannot mix
 * up their keys or revocation state.
 */
async function otherInstance(file: string) {
  const other = await bootModule(databaseOptions(`sqlite:${file}`), options);
  return { tokens: other.tokens, close: () => other.close() };
}

const stats = (running: RunningTestApp) => running.app.get(RevocationState).stats();

eachAdapter('allowlist mode across instances', (adapter) => {
  describe('allowlist mode across instances on one SQLite file', () => {
    const file = tempSqliteFile('jwt-revocation-allowlist-');
    const running = appForSuite(() => start(file, adapter));
    const other = appForSuite(() => otherInstance(file));

    it('a token issued by this app works (from memory)', async () => {
      const own = await tokensOf(running).issue('own-user');
      const res = await running.http.get('/who').set(bearer(own.accessToken)).expect(200);
      expect(res.body.jti).toBe(own.jti);
    });

    it('a token issued by another instance after boot is accepted through the database fallback, then remembered', async () => {
      const foreign = await other.tokens.issue('foreign-user');
      const before = stats(running).activeTokens;
      const res = await running.http.get('/who').set(bearer(foreign.accessToken)).expect(200);
      expect(res.body).toMatchObject({ sub: 'foreign-user', jti: foreign.jti });
      expect(stats(running).activeTokens).toBe(before + 1);
    });

    it('a validly signed token whose jti is not in the log is 401 (the fallback really asks)', async () => {
      const own = await tokensOf(running).issue('own-user');
      const claims = { ...decodePart(own.accessToken, 1), jti: randomBytes(16).toString('base64url') };
      expect401(await running.http.get('/who').set(bearer(forge(decodePart(own.accessToken, 0), claims, TEST_SECRET))));
    });

    it('after revoke on the issuing app, that app rejects the token', async () => {
      const own = await tokensOf(running).issue('own-user');
      const foreign = await other.tokens.issue('foreign-user');
      await running.http.get('/who').set(bearer(own.accessToken)).expect(200);
      await running.http.get('/who').set(bearer(foreign.accessToken)).expect(200);
      expect(await tokensOf(running).revoke(own.jti)).toBe(true);
      expect401(await running.http.get('/who').set(bearer(own.accessToken)));
      expect(await tokensOf(running).revokeSession(foreign.sessionId)).toBe(true);
      expect401(await running.http.get('/who').set(bearer(foreign.accessToken)));
    });
  });

  describe('allowlist mode: an app started on the file after another closed', () => {
    it('a second Nest app on the same file, started after the first is closed, loads the log: revoked stay out, active get in', async () => {
      const file = tempSqliteFile('jwt-revocation-allowlist-');
      const first = await start(file, adapter);
      const other = await otherInstance(file);
      let firstOpen = true;
      let second: RunningTestApp | undefined;
      try {
        const own = await tokensOf(first).issue('own-user');
        const foreign = await other.tokens.issue('foreign-user');
        await first.http.get('/who').set(bearer(foreign.accessToken)).expect(200);
        expect(await tokensOf(first).revoke(own.jti)).toBe(true);
        expect(await tokensOf(first).revokeSession(foreign.sessionId)).toBe(true);
        const later = await other.tokens.issue('later-user');
        await first.close();
        firstOpen = false;
        second = await start(file, adapter);
        expect(stats(second).activeTokens).toBeGreaterThanOrEqual(1);
        expect401(await second.http.get('/who').set(bearer(own.accessToken)));
        expect401(await second.http.get('/who').set(bearer(foreign.accessToken)));
        const before = stats(second).activeTokens;
        await second.http.get('/who').set(bearer(later.accessToken)).expect(200);
        // Known from the boot load: no database look-up was needed.
        expect(stats(second).activeTokens).toBe(before);
      } finally {
        if (firstOpen) await first.close();
        await second?.close();
        await other.close();
      }
    });
  });
});
