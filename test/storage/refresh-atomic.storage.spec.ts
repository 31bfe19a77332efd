import 'reflect-metadata';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { eachDatabase, twoInstancesOn } from '../support/databases.js';
import { tokensOf } from '../support/guard-app.js';
import { bootProbeApp, expectDead, expectInvalid, expectOnePair, probe } from '../support/probe-app.js';
import { appForSuite } from '../support/suite-app.js';
import { within } from '../support/time.js';
import { backdateSpend, liveRefreshRows, rowsOf, sha256 } from '../support/token-rows.js';

/** A catch-up every second (syncInterval: 1), plus the time to run it, with room to spare on a loaded machine. */
const SYNC_BOUND_MS = 5000;

eachDatabase('refresh tokens (service level)', (database) => {
  const db = database();
  const twoInstances = twoInstancesOn(db);

  describe('atomic refresh', () => {
    const app = appForSuite(() => bootProbeApp(db.fresh()));
    let twin: INestApplication | undefined;
    afterAll(async () => {
      await twin?.close();
    });

    it('N parallel refreshes with one token on one instance: every caller gets the same pair, one live chain', async () => {
      const tokens = tokensOf(app);
      const first = await tokens.issue('atomic.hank');
      const results = await Promise.allSettled(Array.from({ length: 12 }, () => tokens.refresh(first.refreshToken)));
      const pairs = expectOnePair(results);

      const rows = await rowsOf(app, first.sessionId);
      expect(rows.filter((r) => r.tokenType === 'refresh')).toHaveLength(2);
      expect(rows.filter((r) => r.tokenType === 'access')).toHaveLength(2);
      const live = await liveRefreshRows(app, first.sessionId);
      expect(live).toHaveLength(1);
      expect(live[0].tokenHash).toBe(sha256(pairs[0].refreshToken));
      expect(await tokens.findToken(pairs[0].jti)).not.toBeNull();
      expect(await probe(app, pairs[0].accessToken)).toBe(200);
      expect(await tokens.refresh(pairs[0].refreshToken)).toMatchObject({ sessionId: first.sessionId });
    });

    twoInstances(
      'N parallel refreshes split over two instances on one database leave exactly one live chain, which both guards accept until a reuse kills it',
      async () => {
        // A catch-up every second: it refuses what the other revoked within SYNC_BOUND_MS, whatever the bus.
        twin = await bootProbeApp(db.reopen(), { syncInterval: 1 });
        for (let round = 0; round < 3; round++) {
          const first = await tokensOf(app).issue(`atomic.twin${round}`);
          const calls = Array.from({ length: 10 }, (_, i) =>
            tokensOf(i % 2 === 0 ? app : twin!).refresh(first.refreshToken),
          );
          const pairs = expectOnePair(await Promise.allSettled(calls));
          expect(await liveRefreshRows(app, first.sessionId)).toHaveLength(1);
          expect((await rowsOf(app, first.sessionId)).filter((r) => r.tokenType === 'access')).toHaveLength(2);
          // Each app has its own guard: the winning pair passes both.
          expect(await probe(app, pairs[0].accessToken)).toBe(200);
          expect(await probe(twin!, pairs[0].accessToken)).toBe(200);
          const next = await tokensOf(twin!).refresh(pairs[0].refreshToken);
          expect(await probe(app, next.accessToken)).toBe(200);
          // The token the race spent, two generations old now: inside the grace window, the live end
          // of the chain, on either app; spent before the window, reuse, on the app booted first.
          expect(await tokensOf(app).refresh(first.refreshToken)).toMatchObject({ jti: next.jti });
          expect(await tokensOf(twin!).refresh(first.refreshToken)).toMatchObject({ jti: next.jti });
          await backdateSpend(app, first.refreshToken, 6_000);
          await expectInvalid(tokensOf(app).refresh(first.refreshToken));
          // The whole session dies: at once at that app's own guard, and at the other's within its catch-up.
          for (const dead of [first, pairs[0], next]) await expectDead(app, dead);
          for (const dead of [first, pairs[0], next])
            await within(SYNC_BOUND_MS, async () => (await probe(twin!, dead.accessToken)) === 401);
        }
      },
    );
  });
});
