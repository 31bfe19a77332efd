import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { getDataSourceToken } from '@nestjs/typeorm';
import { RevocationHealthIndicator, type JwtRevocationModuleOptions } from 'nestjs-jwt-revocation';
import { RevocationSync } from 'nestjs-jwt-revocation/testing';
import type { DataSource } from 'typeorm';
import { databaseOptions } from '../../sample/config.js';
import { eachDatabase, tempSqliteDatabase } from '../support/databases.js';
import { testLogs } from '../support/logs.js';
import { bootModule, type ModuleApp } from '../support/module-app.js';
import { startSample } from '../support/sample-app.js';
import { proxyFor } from '../support/stall-helpers.js';
import { within } from '../support/time.js';

/**
 * README, "Health": `RevocationHealthIndicator.check('revocation')` returns
 * `{ revocation: { status, mode, busConnected, lagMs, lastSyncAt, lastSeq } }`,
 * each field its real value, and the sample serves it at GET /health (503 when down).
 */
const QUIET: Partial<JwtRevocationModuleOptions> = { syncInterval: 300, maxStaleness: 600, lastSeenFlushInterval: 300 };
/** The state goes stale 2 s after the last catch-up that reached the database. */
const STALE_SOON: Partial<JwtRevocationModuleOptions> = {
  syncInterval: 1,
  maxStaleness: 2,
  lastSeenFlushInterval: 300,
};
/** Long enough for a stale state to be noticed on a loaded machine: maxStaleness, a catch-up interval, and margin. */
const DOWN_MS = 10_000;

// What a database closed under the app, and a Redis cut, make the module and TypeORM log.
testLogs.expect(
  /^revocation catch-up failed \(/,
  /^could not write session activity: /,
  /^Failed to close the "default" data source: /,
  /^redis: /,
  /^LISTEN connection lost: /,
);

type Health = ReturnType<RevocationHealthIndicator['check']> extends Record<string, infer V> ? V : never;

const health = (m: ModuleApp): Health => m.app.get(RevocationHealthIndicator).check('revocation').revocation;

/** The highest sequence number in the event table. */
async function maxSeq(m: ModuleApp): Promise<number> {
  const [row] = await m.source.query('SELECT MAX(seq) AS seq FROM jwt_revocation_event');
  return Number((row as { seq: unknown }).seq);
}

eachDatabase('RevocationHealthIndicator', (database) => {
  const db = database();
  const mode = db.name === 'postgres' ? 'notify' : 'poll';

  it(`check('revocation'): up, mode ${mode}, bus connected, lag and last sync consistent, lastSeq following the events`, async () => {
    const bootedFrom = Date.now();
    const m = await bootModule(db.fresh(), QUIET);
    try {
      const syncedAt = m.app.get(RevocationSync).status().lastSyncAt;
      expect(syncedAt).toBeGreaterThanOrEqual(bootedFrom);
      const asked = Date.now();
      const result = m.app.get(RevocationHealthIndicator).check('revocation');
      const answered = Date.now();
      expect(Object.keys(result)).toEqual(['revocation']);
      expect(result.revocation).toEqual({
        status: 'up',
        mode,
        busConnected: true,
        lagMs: expect.any(Number),
        lastSyncAt: new Date(syncedAt).toISOString(),
        lastSeq: 0,
      });
      // lagMs is the time since lastSyncAt, when asked.
      const { lagMs } = result.revocation;
      expect(syncedAt + lagMs).toBeGreaterThanOrEqual(asked);
      expect(syncedAt + lagMs).toBeLessThanOrEqual(answered);
      // Without an argument the key is 'jwtRevocation'.
      expect(Object.keys(m.app.get(RevocationHealthIndicator).check())).toEqual(['jwtRevocation']);

      // Each revocation advances lastSeq to the event it wrote.
      await m.tokens.revoke((await m.tokens.issue('health.one')).jti, 'admin');
      const first = await maxSeq(m);
      expect(first).toBeGreaterThan(0);
      expect(health(m).lastSeq).toBe(first);
      await m.tokens.revokeSession((await m.tokens.issue('health.two')).sessionId);
      expect(await maxSeq(m)).toBe(first + 1);
      expect(health(m).lastSeq).toBe(first + 1);
      // A catch-up moves lastSyncAt on, and the lag with it.
      const before = Date.now();
      await m.app.get(RevocationSync).catchUp();
      expect(Date.parse(health(m).lastSyncAt)).toBeGreaterThanOrEqual(before);
      expect(health(m).status).toBe('up');
    } finally {
      await m.close();
    }
  });

  it('status down once the state is older than maxStaleness (database closed), with the lag past it', async () => {
    // Polling: a LISTEN connection, never given back to the pool, would hold the pool's end (destroy) for ever.
    const m = await bootModule(db.fresh(), { ...STALE_SOON, propagation: 'poll' });
    try {
      expect(health(m).status).toBe('up');
      const syncedAt = Date.parse(health(m).lastSyncAt);
      await m.source.destroy();
      await within(
        DOWN_MS,
        () => health(m).status,
        (status) => status === 'down',
      );
      const down = health(m);
      expect(down).toMatchObject({ status: 'down', mode: 'poll', lastSyncAt: new Date(syncedAt).toISOString() });
      expect(down.lagMs).toBeGreaterThan(2000);
      expect(testLogs.take(/^revocation catch-up failed/).length).toBeGreaterThan(0);
    } finally {
      await m.close();
    }
  });
});

const REDIS = process.env.TEST_REDIS_URL;
(REDIS ? describe : describe.skip)('RevocationHealthIndicator over Redis', () => {
  it("mode 'redis'; busConnected false while Redis is cut, true again once it is back", async () => {
    const { proxy, url } = await proxyFor(REDIS!);
    const m = await bootModule(tempSqliteDatabase(), { ...QUIET, syncInterval: 1, maxStaleness: 60, redis: url });
    try {
      await within(5000, () => health(m).busConnected);
      expect(health(m)).toMatchObject({ status: 'up', mode: 'redis', busConnected: true });
      proxy.cut();
      try {
        await within(5000, () => !health(m).busConnected);
        // The database still answers: the state is fresh, only the bus is gone.
        expect(health(m)).toMatchObject({ status: 'up', mode: 'redis', busConnected: false });
      } finally {
        proxy.restore();
      }
      await within(10_000, () => health(m).busConnected);
      testLogs.take(/^redis: /);
    } finally {
      await m.close();
      await proxy.close();
    }
  });
});
if (!REDIS) console.warn('\n*** SKIPPED: "RevocationHealthIndicator over Redis": set TEST_REDIS_URL to run it. ***\n');

const POSTGRES = process.env.TEST_POSTGRES_URL;
(POSTGRES ? describe : describe.skip)('RevocationHealthIndicator over LISTEN/NOTIFY', () => {
  it("mode 'notify'; busConnected false while the LISTEN connection is cut, true again once it is back", async () => {
    const { proxy, url } = await proxyFor(POSTGRES!);
    const m = await bootModule(
      { ...databaseOptions(url), dropSchema: true },
      { ...QUIET, syncInterval: 1, maxStaleness: 60 },
    );
    try {
      expect(health(m)).toMatchObject({ status: 'up', mode: 'notify', busConnected: true });
      proxy.cut();
      try {
        await within(5000, () => !health(m).busConnected);
      } finally {
        proxy.restore();
      }
      await within(15_000, () => health(m).busConnected);
      testLogs.take(/^LISTEN connection lost: /);
    } finally {
      await m.close();
      await proxy.close();
    }
  }, 30_000);
});

describe('the sample: GET /health', () => {
  it('200 with the indicator while fresh; 503 with the same details once the database is gone past maxStaleness', async () => {
    const sample = await startSample(tempSqliteDatabase(), { syncInterval: 1, maxStaleness: 2 });
    try {
      const up = await sample.http.get('/health');
      expect(up.status).toBe(200);
      expect(up.body).toEqual({
        status: 'ok',
        details: {
          revocation: {
            status: 'up',
            mode: 'poll',
            busConnected: true,
            lagMs: expect.any(Number),
            lastSyncAt: expect.any(String),
            lastSeq: 0,
          },
        },
      });
      await sample.app.get<DataSource>(getDataSourceToken()).destroy();
      await within(
        DOWN_MS,
        async () => (await sample.http.get('/health')).status,
        (status) => status === 503,
      );
      const down = await sample.http.get('/health');
      expect(down.status).toBe(503);
      expect(down.body).toEqual({
        status: 'error',
        details: { revocation: expect.objectContaining({ status: 'down', mode: 'poll', busConnected: true }) },
      });
      expect(down.body.details.revocation.lagMs).toBeGreaterThan(2000);
    } finally {
      await sample.close();
    }
  });
});
