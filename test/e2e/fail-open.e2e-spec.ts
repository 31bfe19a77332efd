import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { RevocationSync } from 'nestjs-jwt-revocation/testing';
import request from 'supertest';
import { tempSqliteDatabase } from '../support/databases.js';
import { WhoController } from '../support/guard-app.js';
import { bearer } from '../support/http.js';
import { testLogs } from '../support/logs.js';
import { bootModule } from '../support/module-app.js';
import { sleep, within } from '../support/time.js';

/**
 * README, "Failing closed": past `maxStaleness`, with `failClosed: false`, the guard
 * "keeps serving from memory and logs an error every 10 s". The database is closed
 * under the app; its catch-ups (every second here) fail from then on.
 */
const SYNC_INTERVAL = 1;
const MAX_STALENESS = 2;
/** What the README promises: one error line per 10 s of outage, not one per request nor per failed catch-up. */
const LOG_EVERY_MS = 10_000;
/** How long the outage is watched: more than one logging period, so a second line is due. */
const WATCH_MS = 13_000;

const FAILED = /^revocation catch-up failed \(/;
testLogs.expect(FAILED, /^could not write session activity: /, /^Failed to close the "default" data source: /);

describe('failClosed: false', () => {
  it('past maxStaleness the guard keeps serving from memory (200, revoked still 401) and logs an error every 10 s, not per request', async () => {
    const m = await bootModule(
      tempSqliteDatabase(),
      {
        failClosed: false,
        syncInterval: SYNC_INTERVAL,
        maxStaleness: MAX_STALENESS,
        lastSeenFlushInterval: 300,
        propagation: 'poll',
      },
      { controllers: [WhoController] },
    );
    try {
      const who = (token: string) => request(m.app.getHttpServer()).get('/who').set(bearer(token));
      const live = await m.tokens.issue('fail-open.live');
      const revoked = await m.tokens.issue('fail-open.revoked');
      await m.tokens.revoke(revoked.jti, 'admin');
      await who(live.accessToken).expect(200);
      testLogs.take(FAILED);

      await m.source.destroy();
      const closedAt = Date.now();
      const sync = m.app.get(RevocationSync);
      await within((MAX_STALENESS + SYNC_INTERVAL + 5) * 1000, () => !sync.status().fresh);

      // Stale now, and served from memory: many requests, each answered as before the outage.
      const statuses = new Set<string>();
      let requests = 0;
      while (Date.now() - closedAt < WATCH_MS) {
        statuses.add(`live ${(await who(live.accessToken)).status}`);
        statuses.add(`revoked ${(await who(revoked.accessToken)).status}`);
        requests += 2;
        await sleep(50);
      }
      const watchedMs = Date.now() - closedAt;
      expect([...statuses].sort()).toEqual(['live 200', 'revoked 401']);
      expect(sync.status().fresh).toBe(false);

      const lines = testLogs.take(FAILED);
      // Logged again after 10 s, not once only; and never more than one line per 10 s, whatever the requests.
      expect(lines.length).toBeGreaterThanOrEqual(2);
      expect(lines.length).toBeLessThanOrEqual(Math.floor(watchedMs / LOG_EVERY_MS) + 1);
      expect(requests).toBeGreaterThan(lines.length * 10);
      for (const line of lines) {
        expect(line).toMatchObject({ level: 'error', context: 'JwtRevocation' });
        expect(line.message).toMatch(/failClosed is off: tokens are still accepted/);
      }
    } finally {
      await m.close();
    }
  }, 40_000);
});
