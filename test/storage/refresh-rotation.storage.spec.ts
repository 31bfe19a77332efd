import 'reflect-metadata';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { TokenLogService } from 'nestjs-jwt-revocation';
import { JwtRevocationConfig } from 'nestjs-jwt-revocation/testing';
import { eachDatabase } from '../support/databases.js';
import { decodePart } from '../support/forge.js';
import { tokensOf } from '../support/guard-app.js';
import { bootProbeApp, collect, expectDead, expectInvalid, probe } from '../support/probe-app.js';
import { appForSuite } from '../support/suite-app.js';
import { backdateSpend, liveRefreshRows, refreshRowOf, rowsOf } from '../support/token-rows.js';

eachDatabase('refresh tokens (service level)', (database) => {
  const db = database();

  describe('rotation, parent chain, grace replay and reuse (grace 5 s)', () => {
    const app = appForSuite(() => bootProbeApp(db.fresh()));
    let tokens: TokenLogService;
    beforeAll(async () => {
      tokens = tokensOf(app);
    });

    it('refresh gives a new pair in the same session, spends the old token and records parentJti', async () => {
      const first = await tokens.issue('chain.alice');
      const r0 = await refreshRowOf(app, first.refreshToken);
      expect(r0).toMatchObject({
        tokenType: 'refresh',
        sessionId: first.sessionId,
        parentJti: null,
        spentAt: null,
        revokedAt: null,
      });

      const second = await tokens.refresh(first.refreshToken);
      expect(second.sessionId).toBe(first.sessionId);
      expect(second.jti).not.toBe(first.jti);
      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect(decodePart(second.accessToken, 1)).toMatchObject({
        sub: 'chain.alice',
        sid: first.sessionId,
        jti: second.jti,
      });
      expect(await probe(app, second.accessToken)).toBe(200);

      expect((await refreshRowOf(app, first.refreshToken)).spentAt).not.toBeNull();
      const r1 = await refreshRowOf(app, second.refreshToken);
      expect(r1).toMatchObject({ sessionId: first.sessionId, parentJti: r0.jti, spentAt: null, revokedAt: null });
      expect(await tokens.findToken(second.jti)).toMatchObject({
        tokenType: 'access',
        sessionId: first.sessionId,
        parentJti: r0.jti,
      });

      const third = await tokens.refresh(second.refreshToken);
      expect((await refreshRowOf(app, third.refreshToken)).parentJti).toBe(r1.jti);
      expect(await tokens.findToken(third.jti)).toMatchObject({ parentJti: r1.jti });
      expect(await liveRefreshRows(app, first.sessionId)).toHaveLength(1);
    });

    it('grace: the immediately previous token gets the SAME successor pair, not a second chain', async () => {
      expect(app.get(JwtRevocationConfig).refreshReuseGrace).toBe(5);
      const first = await tokens.issue('grace.bob');
      const a = await tokens.refresh(first.refreshToken);
      const b = await tokens.refresh(first.refreshToken);
      expect(b.refreshToken).toBe(a.refreshToken);
      expect(b.jti).toBe(a.jti);
      expect(b.sessionId).toBe(a.sessionId);
      expect(decodePart(b.accessToken, 1).jti).toBe(a.jti);
      expect(await probe(app, b.accessToken)).toBe(200);

      const rows = await rowsOf(app, first.sessionId);
      expect(rows.filter((r) => r.tokenType === 'refresh')).toHaveLength(2);
      expect(rows.filter((r) => r.tokenType === 'access')).toHaveLength(2);
      expect(await liveRefreshRows(app, first.sessionId)).toHaveLength(1);
      expect((await tokens.findSession(first.sessionId))?.revokedAt).toBeNull();

      // The chain goes on from the replayed pair.
      const next = await tokens.refresh(b.refreshToken);
      expect(await probe(app, next.accessToken)).toBe(200);
    });

    it('grace follows the chain: a token two or three generations old, spent within the window, gets the live end of its chain', async () => {
      // A browser's burst queued behind a tab that refreshed twice meanwhile presents R0 after R2 was handed out.
      const first = await tokens.issue('chain.erin');
      const second = await tokens.refresh(first.refreshToken);
      const third = await tokens.refresh(second.refreshToken);
      const fromFirst = await tokens.refresh(first.refreshToken);
      expect(fromFirst).toMatchObject({ refreshToken: third.refreshToken, jti: third.jti, sessionId: first.sessionId });
      expect(await probe(app, fromFirst.accessToken)).toBe(200);
      const fourth = await tokens.refresh(third.refreshToken);
      const again = await Promise.all([tokens.refresh(first.refreshToken), tokens.refresh(second.refreshToken)]);
      for (const pair of again) expect(pair).toMatchObject({ refreshToken: fourth.refreshToken, jti: fourth.jti });
      // One chain, nothing revoked, no second pair written for a racer.
      expect(await liveRefreshRows(app, first.sessionId)).toHaveLength(1);
      expect((await rowsOf(app, first.sessionId)).filter((r) => r.revokedAt !== null)).toEqual([]);
      expect(await rowsOf(app, first.sessionId)).toHaveLength(8);
    });

    it('grace follows at most three links: a token four generations old is reuse, inside the window or not', async () => {
      const first = await tokens.issue('chain.frank');
      let last = first;
      for (let i = 0; i < 4; i++) last = await tokens.refresh(last.refreshToken);
      await expectInvalid(tokens.refresh(first.refreshToken));
      expect(await tokens.findSession(first.sessionId)).toMatchObject({ revokeReason: 'refresh_reuse' });
      await expectDead(app, last);
    });

    it('reuse: a token spent before the grace window revokes the whole session (newest included), however old', async () => {
      const { events, stop } = collect(app);
      try {
        const first = await tokens.issue('reuse.carol');
        const other = await tokens.issue('reuse.carol');
        const second = await tokens.refresh(first.refreshToken);
        const third = await tokens.refresh(second.refreshToken);
        const r0 = await refreshRowOf(app, first.refreshToken);
        // Spent 5.5 s ago: the 5 s window is over for R0, though not for R1.
        await backdateSpend(app, first.refreshToken, 5_500);

        await expectInvalid(tokens.refresh(first.refreshToken));

        const session = await tokens.findSession(first.sessionId);
        expect(session).toMatchObject({ revokeReason: 'refresh_reuse' });
        expect(session?.revokedAt).not.toBeNull();
        const rows = await rowsOf(app, first.sessionId);
        expect(rows).toHaveLength(6);
        for (const row of rows)
          expect(row).toMatchObject({ revokedAt: expect.any(Number), revokeReason: 'refresh_reuse' });

        await expectDead(app, third);
        await expectDead(app, second);
        // The second presentation of the newest pair's parent is no replay either now.
        await expectInvalid(tokens.refresh(second.refreshToken));

        expect(events).toContainEqual({
          type: 'revoked',
          scope: 'session',
          sessionId: first.sessionId,
          reason: 'refresh_reuse',
        });
        expect(events).toContainEqual({
          type: 'reuse_detected',
          subject: 'reuse.carol',
          sessionId: first.sessionId,
          jti: r0.jti,
        });

        // Another session of the same subject is not touched.
        expect(await probe(app, other.accessToken)).toBe(200);
        expect(await tokens.refresh(other.refreshToken)).toMatchObject({ sessionId: other.sessionId });
      } finally {
        stop();
      }
    });

    it('type confusion: refresh() refuses an access token, a refresh token is no access token; nothing is killed', async () => {
      const pair = await tokens.issue('confused.dan');
      await expectInvalid(tokens.refresh(pair.accessToken));
      for (const bad of [
        '',
        'unknown-refresh-token',
        'x'.repeat(300),
        undefined as unknown as string,
        42 as unknown as string,
      ]) {
        await expectInvalid(tokens.refresh(bad));
      }
      expect(await probe(app, pair.refreshToken)).toBe(401);
      expect(await probe(app, pair.accessToken)).toBe(200);
      expect((await tokens.findSession(pair.sessionId))?.revokedAt).toBeNull();
      expect(await tokens.refresh(pair.refreshToken)).toMatchObject({ sessionId: pair.sessionId });
    });
  });
});
