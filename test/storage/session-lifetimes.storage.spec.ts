import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { jwtRevocationEntitySet } from 'nestjs-jwt-revocation/testing';
import { DataSource } from 'typeorm';
import { eachDatabase } from '../support/databases.js';
import { decodePart } from '../support/forge.js';
import { tokensOf } from '../support/guard-app.js';
import { bootProbeApp, expectInvalid, probe } from '../support/probe-app.js';
import { appForSuite } from '../support/suite-app.js';
import { earlyInASecond, sleep } from '../support/time.js';
import { liveRefreshRows, refreshRowOf } from '../support/token-rows.js';

eachDatabase('refresh tokens (service level)', (database) => {
  const db = database();

  describe('session lifetimes', () => {
    describe('sessionMaxLifetime 600 s (accessTokenTtl 60, no idle timeout)', () => {
      // No idle timeout, and tokens whose own expiry outlasts the session's end
      // (the session's clock is moved back, the tokens keep theirs): only the
      // max-lifetime rule can refuse them.
      const app = appForSuite(() => bootProbeApp(db.fresh(), { accessTokenTtl: 60, sessionMaxLifetime: 600 }));
      const sessions = () => app.get(DataSource).getRepository(jwtRevocationEntitySet().session);

      /** Moves a session's creation (and so its end) `ms` into the past, as time would; its tokens keep their own expiry. */
      async function backdate(sessionId: string, ms: number): Promise<number> {
        const session = await sessions().findOneByOrFail({ sessionId });
        const createdAt = session.createdAt - ms;
        await sessions().update({ sessionId }, { createdAt, expiresAt: session.expiresAt - ms });
        return createdAt;
      }

      it('refreshes inside the lifetime, with tokens capped at createdAt + sessionMaxLifetime; none past it', async () => {
        const tokens = tokensOf(app);
        const first = await tokens.issue('max.mia');
        // 30 s of the session left: less than an access token's 60 s, far less than a refresh token's 30 days.
        const end = (await backdate(first.sessionId, 570_000)) + 600_000;
        const second = await tokens.refresh(first.refreshToken);
        expect((decodePart(second.accessToken, 1).exp as number) * 1000).toBe(Math.floor(end / 1000) * 1000);
        expect((await refreshRowOf(app, second.refreshToken)).expiresAt).toBe(end);
        expect(second.refreshExpiresIn).toBeLessThanOrEqual(30);
        // A minute later the session has ended, while the refresh token's own expiry is still ahead.
        await backdate(first.sessionId, 60_000);
        await expectInvalid(tokens.refresh(second.refreshToken));
        expect((await refreshRowOf(app, second.refreshToken)).expiresAt).toBeGreaterThan(Date.now());
        expect(await liveRefreshRows(app, first.sessionId)).toHaveLength(1);
      });

      it('caps the first pair too: the refresh token issue() hands out does not outlive the session', async () => {
        const tokens = tokensOf(app);
        const first = await tokens.issue('max.nick');
        const session = await tokens.findSession(first.sessionId);
        const end = session!.createdAt + 600_000;
        // Capped at the session's end, not at the refresh token's 30 days.
        expect(first.refreshExpiresIn).toBeLessThanOrEqual(600);
        expect(first.refreshExpiresIn).toBeGreaterThan(500);
        expect((await refreshRowOf(app, first.refreshToken)).expiresAt).toBe(end);
        expect(session!.expiresAt).toBe(end);
      });

      it('past the lifetime, introspection calls the refresh token inactive and the session is no longer listed', async () => {
        const tokens = tokensOf(app);
        const first = await tokens.issue('max.olga');
        expect(await tokens.introspect(first.refreshToken)).toMatchObject({ active: true });
        expect((await tokens.listSessions('max.olga')).sessions.map((s) => s.id)).toContain(first.sessionId);
        // The session ended a second ago; its refresh token's own expiry is still ahead.
        await backdate(first.sessionId, 601_000);
        await expectInvalid(tokens.refresh(first.refreshToken));
        expect(await tokens.introspect(first.refreshToken)).toEqual({ active: false });
        expect((await refreshRowOf(app, first.refreshToken)).expiresAt).toBeGreaterThan(Date.now());
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

      it('a session idle past the timeout is no longer listed; the paging cursor still walks past it', async () => {
        const tokens = tokensOf(app);
        const idle = await tokens.issue('idle.tess');
        expect((await tokens.listSessions('idle.tess')).sessions.map((s) => s.id)).toEqual([idle.sessionId]);
        await sleep(1400);
        const fresh = await tokens.issue('idle.tess');
        expect((await tokens.listSessions('idle.tess')).sessions.map((s) => s.id)).toEqual([fresh.sessionId]);
        // A page of one: the fresh session, then a page that read the idle one and shows nothing, and no more.
        const first = await tokens.listSessions('idle.tess', { limit: 1 });
        expect(first.sessions.map((s) => s.id)).toEqual([fresh.sessionId]);
        const second = await tokens.listSessions('idle.tess', { limit: 1, cursor: first.next! });
        expect(second).toEqual({ sessions: [], next: null });
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
        // A one-second token issued late in a second would be expired before the first check.
        await earlyInASecond();
        const pair = await tokens.issue('idle.sam');
        expect(await tokens.introspect(pair.accessToken)).toMatchObject({ active: true });
        await sleep(2100);
        expect(await probe(app, pair.accessToken)).toBe(401);
        expect(await tokens.introspect(pair.accessToken)).toEqual({ active: false });
      });
    });

    describe('sessionIdleTimeout 300 s, kept alive by refreshes (accessTokenTtl 60)', () => {
      // Time moved in the database rather than waited for: each step leaves the session 250 s
      // without a request, inside the timeout only if the refresh before it counted as seen.
      const app = appForSuite(() => bootProbeApp(db.fresh(), { accessTokenTtl: 60, sessionIdleTimeout: 300 }));
      const sessions = () => app.get(DataSource).getRepository(jwtRevocationEntitySet().session);

      it('each refresh counts as seen: a chain refreshed every 250 s outlives the idle timeout', async () => {
        const tokens = tokensOf(app);
        let pair = await tokens.issue('idle.quinn');
        for (let i = 0; i < 4; i++) {
          const { createdAt, lastSeenAt } = await sessions().findOneByOrFail({ sessionId: pair.sessionId });
          await sessions().update(
            { sessionId: pair.sessionId },
            { createdAt: createdAt - 250_000, lastSeenAt: lastSeenAt - 250_000 },
          );
          pair = await tokens.refresh(pair.refreshToken);
        }
        // 1000 s after the login, far past the 300 s timeout: the chain lives, and its last access token passes.
        expect(await probe(app, pair.accessToken)).toBe(200);
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
