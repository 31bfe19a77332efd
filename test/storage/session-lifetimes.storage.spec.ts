import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { eachDatabase } from '../support/databases.js';
import { decodePart } from '../support/forge.js';
import { tokensOf } from '../support/guard-app.js';
import { bootProbeApp, expectInvalid, probe } from '../support/probe-app.js';
import { appForSuite } from '../support/suite-app.js';
import { sleep } from '../support/time.js';
import { liveRefreshRows, refreshRowOf } from '../support/token-rows.js';

eachDatabase('refresh tokens (service level)', (database) => {
  const db = database();

  describe('session lifetimes', () => {
    describe('sessionMaxLifetime 2 s (accessTokenTtl 1)', () => {
      const app = appForSuite(() => bootProbeApp(db.fresh(), { accessTokenTtl: 1, sessionMaxLifetime: 2 }));

      it('refreshes inside the lifetime, with tokens capped at createdAt + sessionMaxLifetime; none past it', async () => {
        const tokens = tokensOf(app);
        const first = await tokens.issue('max.mia');
        const session = await tokens.findSession(first.sessionId);
        const end = session!.createdAt + 2000;
        await sleep(600);
        const second = await tokens.refresh(first.refreshToken);
        expect((decodePart(second.accessToken, 1).exp as number) * 1000).toBeLessThanOrEqual(end);
        expect((await refreshRowOf(app, second.refreshToken)).expiresAt).toBeLessThanOrEqual(end);
        expect(second.refreshExpiresIn).toBeLessThanOrEqual(2);
        await sleep(Math.max(0, end - Date.now()) + 300);
        await expectInvalid(tokens.refresh(second.refreshToken));
        expect(await liveRefreshRows(app, first.sessionId)).toHaveLength(1);
      });

      it('caps the first pair too: the refresh token issue() hands out does not outlive the session', async () => {
        const tokens = tokensOf(app);
        const first = await tokens.issue('max.nick');
        const session = await tokens.findSession(first.sessionId);
        const end = session!.createdAt + 2000;
        expect(first.refreshExpiresIn).toBeLessThanOrEqual(2);
        expect((await refreshRowOf(app, first.refreshToken)).expiresAt).toBeLessThanOrEqual(end);
        expect(session!.expiresAt).toBeLessThanOrEqual(end);
      });

      it('past the lifetime, introspection calls the refresh token inactive and the session is no longer listed', async () => {
        const tokens = tokensOf(app);
        const first = await tokens.issue('max.olga');
        await sleep(2300);
        await expectInvalid(tokens.refresh(first.refreshToken));
        expect(await tokens.introspect(first.refreshToken)).toEqual({ active: false });
        expect((await tokens.listSessions('max.olga')).sessions.map((s) => s.id)).not.toContain(first.sessionId);
      });
    });

    describe('sessionIdleTimeout 1 s (accessTokenTtl 1, clockTolerance 0)', () => {
      const app = appForSuite(() =>
        bootProbeApp(db.fresh(), { accessTokenTtl: 1, sessionIdleTimeout: 1, clockTolerance: 0 }),
      );

      it('a session not seen for sessionIdleTimeout cannot be refreshed', async () => {
        const tokens = tokensOf(app);
        const first = await tokens.issue('idle.pam');
        await sleep(1400);
        await expectInvalid(tokens.refresh(first.refreshToken));
      });

      it('each refresh counts as seen: a chain refreshed every half second outlives the idle timeout', async () => {
        const tokens = tokensOf(app);
        let pair = await tokens.issue('idle.quinn');
        for (let i = 0; i < 4; i++) {
          await sleep(450);
          pair = await tokens.refresh(pair.refreshToken);
        }
        // exp is whole seconds, so a token issued late in a second has little of its 1 s left:
        // refresh once more just after a second begins, well within the idle timeout, and probe that one.
        const inSecond = Date.now() % 1000;
        if (inSecond > 500) {
          await sleep(1020 - inSecond);
          pair = await tokens.refresh(pair.refreshToken);
        }
        expect(await probe(app, pair.accessToken)).toBe(200);
      });

      it('introspection calls the refresh token of an idle session inactive', async () => {
        const tokens = tokensOf(app);
        const first = await tokens.issue('idle.rita');
        await sleep(1400);
        await expectInvalid(tokens.refresh(first.refreshToken));
        expect(await tokens.introspect(first.refreshToken)).toEqual({ active: false });
      });

      it('an expired access token is 401 and introspects as exactly { active: false }', async () => {
        const tokens = tokensOf(app);
        const pair = await tokens.issue('idle.sam');
        expect(await tokens.introspect(pair.accessToken)).toMatchObject({ active: true });
        await sleep(2100);
        expect(await probe(app, pair.accessToken)).toBe(401);
        expect(await tokens.introspect(pair.accessToken)).toEqual({ active: false });
      });
    });

    describe('sessionIdleTimeout 3 s, activity through the guard', () => {
      // 3 s, not 1: the guard records "seen" in whole seconds, so a 1 s
      // timeout could not tell a request 0.6 s ago from one 1.6 s ago.
      const app = appForSuite(() => bootProbeApp(db.fresh(), { accessTokenTtl: 5, sessionIdleTimeout: 3 }));

      it('a session in use through the guard is seen, so it is not idle: it can still be refreshed', async () => {
        const tokens = tokensOf(app);
        const first = await tokens.issue('idle.tess');
        await sleep(2000);
        expect(await probe(app, first.accessToken)).toBe(200);
        await sleep(1500);
        // The library itself reports the session as seen well within the timeout...
        const listed = (await tokens.listSessions('idle.tess')).sessions.find((s) => s.id === first.sessionId);
        expect(listed!.lastSeenAt.getTime()).toBeGreaterThan(Date.now() - 3000);
        // ...so it must not refuse it as idle.
        expect(await tokens.refresh(first.refreshToken)).toMatchObject({ sessionId: first.sessionId });
      });
    });
  });
});
