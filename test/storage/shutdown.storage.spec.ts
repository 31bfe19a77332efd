import 'reflect-metadata';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { JwtRevocationModuleOptions } from 'nestjs-jwt-revocation';
import { RevocationSync } from 'nestjs-jwt-revocation/testing';
import { eachDatabase, tempSqliteDatabase } from '../support/databases.js';
import { tokensOf } from '../support/guard-app.js';
import { bootProbeApp, probe } from '../support/probe-app.js';
import { sleep, within } from '../support/time.js';

/**
 * README: `app.enableShutdownHooks(); // on SIGTERM: last-seen times are written, timers stop`,
 * and the archive timer is "stopped at shutdown". The module's timers are unref'd, so
 * `process.getActiveResourcesInfo()` does not list them: the suite watches every interval
 * started while the app boots and runs, and checks that none of them fires after close.
 */

/** Every 1 s: the catch-up, the last-seen flush, the archive sweep, the pruning and the bus heartbeat. */
const EVERY_SECOND: Partial<JwtRevocationModuleOptions> = {
  syncInterval: 1,
  maxStaleness: 10,
  lastSeenFlushInterval: 1,
  archiveInterval: 1,
  pruneInterval: 1,
};

interface WatchedInterval {
  ms: number;
  runs: number;
  runsAfterClose: number;
}

/** Wraps setInterval: each interval started from now on counts its runs, and those after `closed()`. */
function watchIntervals() {
  const real = globalThis.setInterval;
  const started: WatchedInterval[] = [];
  let closed = false;
  const watching = (handler: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const watched: WatchedInterval = { ms: ms ?? 0, runs: 0, runsAfterClose: 0 };
    started.push(watched);
    return real(
      (...given: unknown[]) => {
        watched.runs++;
        if (closed) watched.runsAfterClose++;
        handler(...given);
      },
      ms,
      ...args,
    );
  };
  globalThis.setInterval = watching as unknown as typeof setInterval;
  return {
    started,
    closed: () => {
      closed = true;
    },
    restore: () => {
      globalThis.setInterval = real;
    },
  };
}

let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
});

/**
 * Boots the module (guard, a session in use, every timer at 1 s), waits until each of its
 * intervals has fired, closes it, and checks that none fires in the two seconds after.
 */
async function expectTimersStopAtClose(
  boot: () => Promise<INestApplication>,
  expectedBus: 'poll' | 'notify' | 'redis',
): Promise<void> {
  const watch = watchIntervals();
  restore = watch.restore;
  const app = await boot();
  let closed = false;
  try {
    expect(app.get(RevocationSync).status().mode).toBe(expectedBus);
    const pair = await tokensOf(app).issue('shutdown.sue');
    expect(await probe(app, pair.accessToken)).toBe(200);
    const timers = watch.started.filter((t) => t.ms === 1000);
    // Catch-up, flush, archive sweep and pruning on every bus, plus the heartbeat of LISTEN/NOTIFY and Redis.
    expect(timers).toHaveLength(expectedBus === 'poll' ? 4 : 5);
    // Each one is live: it has fired at least once (so the wrapper sees its runs).
    await within(
      10_000,
      () => timers.every((t) => t.runs > 0),
      Boolean,
      () => timers.map((t) => t.runs).join('/'),
    );
    await app.close();
    closed = true;
    watch.closed();
    await sleep(2500);
    expect(watch.started.filter((t) => t.runsAfterClose > 0)).toEqual([]);
  } finally {
    if (!closed) await app.close();
  }
}

eachDatabase('shutdown', (database) => {
  const db = database();

  it("after app.close() none of the module's timers fires again: catch-up, flush, archive, pruning, bus heartbeat", async () => {
    const bus = db.name === 'postgres' ? 'notify' : 'poll';
    await expectTimersStopAtClose(() => bootProbeApp(db.fresh(), EVERY_SECOND), bus);
  });
});

const redis = process.env.TEST_REDIS_URL;
if (redis) {
  describe('shutdown [redis]', () => {
    it("after app.close() none of the module's timers fires again, the Redis heartbeat included", async () => {
      await expectTimersStopAtClose(() => bootProbeApp(tempSqliteDatabase(), { ...EVERY_SECOND, redis }), 'redis');
    });
  });
} else if (process.env.CI) {
  describe('shutdown [redis]', () => {
    it('needs TEST_REDIS_URL: CI must run it', () => {
      throw new Error('TEST_REDIS_URL is not set');
    });
  });
} else {
  console.warn('\n*** SKIPPED: "shutdown [redis]": set TEST_REDIS_URL to run it (.ci/run does). ***\n');
}
