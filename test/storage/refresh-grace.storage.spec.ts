import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { InvalidTokenException } from 'nestjs-jwt-revocation';
import { jwtRevocationEntitySet } from 'nestjs-jwt-revocation/testing';
import { DataSource } from 'typeorm';
import { eachDatabase } from '../support/databases.js';
import { decodePart } from '../support/forge.js';
import { tokensOf } from '../support/guard-app.js';
import { bootProbeApp, expectDead, expectInvalid, probe } from '../support/probe-app.js';
import { appForSuite } from '../support/suite-app.js';
import { sleep } from '../support/time.js';
import { refreshRowOf } from '../support/token-rows.js';

/**
 * Moves a session's creation and last-seen time `ms` into the past, as time would; its tokens
 * keep their own expiry, and a spent token keeps its spentAt, so a replay stays inside the
 * grace window. Returns the session's creation time after the move.
 */
async function backdateSession(app: INestApplication, sessionId: string, ms: number): Promise<number> {
  const sessions = app.get(DataSource).getRepository(jwtRevocationEntitySet().session);
  const session = await sessions.findOneByOrFail({ sessionId });
  const moved = { createdAt: session.createdAt - ms, lastSeenAt: session.lastSeenAt - ms };
  await sessions.update({ sessionId }, { ...moved, expiresAt: session.expiresAt - ms });
  return moved.createdAt;
}

eachDatabase('refresh tokens (service level)', (database) => {
  const db = database();

  describe('grace window elapsed (refreshReuseGrace 1)', () => {
    const short = appForSuite(() => bootProbeApp(db.fresh(), { refreshReuseGrace: 1 }));

    it('after refreshReuseGrace, the previous token is reuse: the session dies with reason refresh_reuse', async () => {
      const tokens = tokensOf(short);
      const first = await tokens.issue('late.erin');
      const second = await tokens.refresh(first.refreshToken);
      await sleep(1300);
      await expectInvalid(tokens.refresh(first.refreshToken));
      expect(await tokens.findSession(first.sessionId)).toMatchObject({ revokeReason: 'refresh_reuse' });
      await expectDead(short, second);
    });
  });

  describe('grace window disabled (refreshReuseGrace 0)', () => {
    const none = appForSuite(() => bootProbeApp(db.fresh(), { refreshReuseGrace: 0 }));

    it('refreshReuseGrace 0: presenting the previous token again is reuse at once', async () => {
      const tokens = tokensOf(none);
      const first = await tokens.issue('strict.frank');
      const second = await tokens.refresh(first.refreshToken);
      await sleep(5);
      await expectInvalid(tokens.refresh(first.refreshToken));
      expect(await tokens.findSession(first.sessionId)).toMatchObject({ revokeReason: 'refresh_reuse' });
      await expectDead(none, second);
    });

    it('refreshReuseGrace 0: two parallel refreshes with one token are reuse, not a replayed pair', async () => {
      const tokens = tokensOf(none);
      const first = await tokens.issue('strict.gina');
      const results = await Promise.allSettled([
        tokens.refresh(first.refreshToken),
        tokens.refresh(first.refreshToken),
      ]);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(InvalidTokenException);
      // With the window disabled, at most one caller gets a pair, and the duplicate kills the session.
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(await tokens.findSession(first.sessionId)).toMatchObject({ revokeReason: 'refresh_reuse' });
    });
  });
  describe('the grace window never extends a session (refreshReuseGrace 30, sessionMaxLifetime 600)', () => {
    // A window of 30 s, so that every replay below is well inside it, whatever the machine's load.
    const app = appForSuite(() =>
      bootProbeApp(db.fresh(), { refreshReuseGrace: 30, accessTokenTtl: 60, sessionMaxLifetime: 600 }),
    );

    it('inside the window and the lifetime, the replayed pair ends with the session, not later', async () => {
      const tokens = tokensOf(app);
      const first = await tokens.issue('grace.cap.ida');
      // 20 s of the session left: less than an access token's 60 s and a refresh token's 30 days.
      const end = (await backdateSession(app, first.sessionId, 580_000)) + 600_000;
      const second = await tokens.refresh(first.refreshToken);
      const replay = await tokens.refresh(first.refreshToken);
      expect(replay).toMatchObject({ refreshToken: second.refreshToken, jti: second.jti });
      expect((decodePart(replay.accessToken, 1).exp as number) * 1000).toBeLessThanOrEqual(end);
      expect(replay.refreshExpiresIn).toBeLessThanOrEqual(20);
      expect((await refreshRowOf(app, replay.refreshToken)).expiresAt).toBeLessThanOrEqual(end);
      expect(await probe(app, replay.accessToken)).toBe(200);
    });

    it('past sessionMaxLifetime, a replay inside the window gets nothing', async () => {
      const tokens = tokensOf(app);
      const first = await tokens.issue('grace.cap.jo');
      const second = await tokens.refresh(first.refreshToken);
      // The control: inside the window and the lifetime, the replay gets the pair.
      expect(await tokens.refresh(first.refreshToken)).toMatchObject({ refreshToken: second.refreshToken });
      // The session's lifetime ended a second ago; the spent token's spentAt is a moment ago.
      await backdateSession(app, first.sessionId, 601_000);
      const spentAt = (await refreshRowOf(app, first.refreshToken)).spentAt!;
      await expectInvalid(tokens.refresh(first.refreshToken));
      expect(Date.now() - spentAt).toBeLessThan(30_000);
      // Nor does the successor refresh: the session is over for every token of it.
      await expectInvalid(tokens.refresh(second.refreshToken));
      expect(await tokens.introspect(second.refreshToken)).toEqual({ active: false });
    });
  });

  describe('the grace window never revives an idle session (refreshReuseGrace 30, sessionIdleTimeout 300)', () => {
    const app = appForSuite(() =>
      bootProbeApp(db.fresh(), { refreshReuseGrace: 30, accessTokenTtl: 60, sessionIdleTimeout: 300 }),
    );

    it('past sessionIdleTimeout, a replay inside the window gets nothing', async () => {
      const tokens = tokensOf(app);
      const first = await tokens.issue('grace.idle.kai');
      const second = await tokens.refresh(first.refreshToken);
      expect(await tokens.refresh(first.refreshToken)).toMatchObject({ refreshToken: second.refreshToken });
      // Not seen for 301 s (nothing went through the guard): idle, while the spend was a moment ago.
      await backdateSession(app, first.sessionId, 301_000);
      const spentAt = (await refreshRowOf(app, first.refreshToken)).spentAt!;
      await expectInvalid(tokens.refresh(first.refreshToken));
      expect(Date.now() - spentAt).toBeLessThan(30_000);
      await expectInvalid(tokens.refresh(second.refreshToken));
      expect(await tokens.introspect(second.refreshToken)).toEqual({ active: false });
    });
  });
});
