import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { jwtRevocationEntitySet } from 'nestjs-jwt-revocation/testing';
import { DataSource } from 'typeorm';
import { eachDatabase } from '../support/databases.js';
import { tokensOf } from '../support/guard-app.js';
import { bootProbeApp, collect, expectDead, expectInvalid, probe } from '../support/probe-app.js';
import { appForSuite } from '../support/suite-app.js';
import { refreshRowOf, rowsOf, sha256 } from '../support/token-rows.js';

/**
 * README: "A spent refresh token presented again is reuse [...] A spent token replayed
 * after its own expiry still counts." Its expiry is moved into the past in the database,
 * as time would move it (with its issue and spend, which come before it: a token
 * spent a minute ago is long past the grace window); the rest of the session keeps
 * its own times, so the session is live and only the expiry of the replayed token
 * differs from a plain reuse.
 */
async function expireRefreshToken(app: INestApplication, refreshToken: string): Promise<void> {
  const log = app.get(DataSource).getRepository(jwtRevocationEntitySet().tokenLog);
  const row = await refreshRowOf(app, refreshToken);
  const expiresAt = Date.now() - 60_000;
  await log.update(
    { tokenHash: sha256(refreshToken) },
    {
      expiresAt,
      issuedAt: Math.min(row.issuedAt, expiresAt - 1000),
      ...(row.spentAt !== null ? { spentAt: Math.min(row.spentAt, expiresAt - 500) } : {}),
    },
  );
  expect((await refreshRowOf(app, refreshToken)).expiresAt).toBeLessThan(Date.now());
}

eachDatabase('refresh tokens (service level)', (database) => {
  const db = database();

  describe('a spent refresh token replayed after its own expiry', () => {
    const app = appForSuite(() => bootProbeApp(db.fresh()));
    const strict = appForSuite(() => bootProbeApp(db.fresh(), { refreshReuseGrace: 0 }));

    /** Replays `spent` (expired) and checks the reuse: 401, the session revoked for refresh_reuse, reuse_detected, every pair dead. */
    async function expectReuse(
      on: INestApplication,
      subject: string,
      spent: { refreshToken: string; sessionId: string },
      pairs: Parameters<typeof expectDead>[1][],
    ): Promise<void> {
      const tokens = tokensOf(on);
      const spentRow = await refreshRowOf(on, spent.refreshToken);
      expect(spentRow.spentAt).not.toBeNull();
      const { events, stop } = collect(on);
      try {
        await expectInvalid(tokens.refresh(spent.refreshToken));
      } finally {
        stop();
      }
      expect(await tokens.findSession(spent.sessionId)).toMatchObject({
        revokedAt: expect.any(Number),
        revokeReason: 'refresh_reuse',
      });
      for (const row of await rowsOf(on, spent.sessionId))
        expect(row).toMatchObject({ revokedAt: expect.any(Number), revokeReason: 'refresh_reuse' });
      expect(events).toContainEqual({ type: 'reuse_detected', subject, sessionId: spent.sessionId, jti: spentRow.jti });
      for (const pair of pairs) await expectDead(on, pair);
    }

    it('two generations old: still reuse; the session dies and reuse_detected fires', async () => {
      const tokens = tokensOf(app);
      const first = await tokens.issue('expired.ada');
      const other = await tokens.issue('expired.ada');
      const second = await tokens.refresh(first.refreshToken);
      const third = await tokens.refresh(second.refreshToken);
      await expireRefreshToken(app, first.refreshToken);
      // The control: the live end of the chain works before the replay.
      expect(await probe(app, third.accessToken)).toBe(200);

      await expectReuse(app, 'expired.ada', first, [second, third]);
      // Another session of the subject is not touched.
      expect(await probe(app, other.accessToken)).toBe(200);
      expect(await tokens.refresh(other.refreshToken)).toMatchObject({ sessionId: other.sessionId });
    });

    it('the immediately previous token, past the grace window (refreshReuseGrace 0): still reuse', async () => {
      const tokens = tokensOf(strict);
      const first = await tokens.issue('expired.bo');
      const second = await tokens.refresh(first.refreshToken);
      await expireRefreshToken(strict, first.refreshToken);
      expect(await probe(strict, second.accessToken)).toBe(200);

      await expectReuse(strict, 'expired.bo', first, [second]);
    });

    it('an expired token that was never spent is a plain 401: no reuse, the session lives', async () => {
      // The control for the two above: expiry alone kills nobody.
      const tokens = tokensOf(app);
      const first = await tokens.issue('expired.cy');
      const kept = await tokens.issue('expired.cy');
      await expireRefreshToken(app, first.refreshToken);
      const { events, stop } = collect(app);
      try {
        await expectInvalid(tokens.refresh(first.refreshToken));
      } finally {
        stop();
      }
      expect(events).toEqual([]);
      expect((await tokens.findSession(first.sessionId))?.revokedAt).toBeNull();
      expect(await probe(app, first.accessToken)).toBe(200);
      expect(await probe(app, kept.accessToken)).toBe(200);
    });
  });
});
