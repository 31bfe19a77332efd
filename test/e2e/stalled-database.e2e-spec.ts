import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TokenLogService } from 'nestjs-jwt-revocation';
import { RevocationSync } from 'nestjs-jwt-revocation/testing';
import { databaseOptions } from '../../sample/config.js';
import { testLogs, typeOrmLogs } from '../support/logs.js';
import { bootModule, type ModuleApp } from '../support/module-app.js';
import { closeWithin, getMe, guardedApp, proxyFor, untilStatus } from '../support/stall-helpers.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { sleep } from '../support/time.js';

/**
 * A database that accepts connections and never answers (a hung server, a
 * link a firewall dropped: the proxy's "stall"). Every call to it must give
 * up within `storeTimeout`, the guard must fail closed, and once new
 * connections go through again the guard must serve within the README's
 * bound, although the connections opened before the stall stay black holes
 * and every attempt during it left a connection hanging. The drivers get the
 * sample's timeouts (sample/config.ts), as the README asks.
 */
const SYNC_INTERVAL = 1;
const MAX_STALENESS = 3;
const STORE_TIMEOUT = 1;
/** README, "Several instances": syncInterval + storeTimeout once the database answers, plus one catch-up query (1 s here, polling included). */
const RECOVERY_BOUND_MS = (SYNC_INTERVAL + STORE_TIMEOUT + 1) * 1000;
/** Longer than the drivers' query timeout, and more timed-out attempts than a pool has connections (node-postgres: 10). */
const STALL_MS = 12_000;
/** The query timeout sample/config.ts gives the drivers: by then they let go of a hung query. */
const DRIVER_TIMEOUT_MS = 6000;

const STALE = { statusCode: 503, message: 'Revocation state unavailable, retry shortly', error: 'Service Unavailable' };
const UNCHECKED = { statusCode: 503, message: 'Token check unavailable, retry shortly' };

// What a hung database makes the module (and TypeORM, and the drivers on close) log: provoked here on purpose.
testLogs.expect(
  /^revocation catch-up failed \(/,
  /^could not write session activity: /,
  /^token check failed: allowlist look-up did not answer/,
  /^LISTEN connection lost: /,
  /^Failed to close the "default" data source: /,
  /^query is slow /,
);
/** The database behind the proxy, TypeORM logging into the test log. */
const throughProxy = (url: string) => ({ ...databaseOptions(url), logger: typeOrmLogs });

const env = {
  postgres: process.env.TEST_POSTGRES_URL,
  mariadb: process.env.TEST_MYSQL_URL?.replace(/^mysql:/, 'mariadb:'),
};

for (const name of ['postgres', 'mariadb'] as const) {
  const url = env[name];
  if (!url) {
    const variable = name === 'postgres' ? 'TEST_POSTGRES_URL' : 'TEST_MYSQL_URL';
    if (process.env.CI)
      describe(`stalled database [${name}]`, () =>
        it(`needs ${variable}: CI must run it`, () => expect(url).toBeDefined()));
    else console.warn(`\n*** SKIPPED: "stalled database" on ${name}: set ${variable} to run it. ***\n`);
    continue;
  }

  describe(`stalled database [${name}]`, () => {
    let proxy: TcpProxy;
    let proxied: string;
    let direct: ModuleApp;

    beforeAll(async () => {
      ({ proxy, url: proxied } = await proxyFor(url));
      // Another instance, on the database directly: it issues tokens this one has not seen.
      direct = await bootModule(databaseOptions(url));
    }, 30_000);
    afterAll(async () => {
      await direct?.close();
      await proxy?.close();
    });

    it('the guard fails closed while the database hangs, and serves again within the bound once it answers', async () => {
      const app = await guardedApp(throughProxy(proxied), {
        syncInterval: SYNC_INTERVAL,
        maxStaleness: MAX_STALENESS,
        storeTimeout: STORE_TIMEOUT,
        // The last-seen flush hangs too, every second.
        lastSeenFlushInterval: 1,
      });
      try {
        const { accessToken } = await app.app.get(TokenLogService).issue('stalled-user');
        expect((await getMe(app, accessToken)).status).toBe(200);

        proxy.stall();
        const stalledAt = Date.now();
        try {
          await untilStatus(app, accessToken, 503, (MAX_STALENESS + SYNC_INTERVAL + STORE_TIMEOUT + 1) * 1000);
          expect(await getMe(app, accessToken)).toMatchObject({ status: 503, body: STALE });
          await sleep(STALL_MS - (Date.now() - stalledAt));
          expect(await getMe(app, accessToken)).toMatchObject({ status: 503, body: STALE });
          // Operators see why.
          expect(testLogs.take(/^revocation catch-up failed/).length).toBeGreaterThan(0);
        } finally {
          proxy.restore();
        }
        // Within the bound: a catch-up that still waited on the stall gives up, the next one finds a working connection.
        const took = await untilStatus(app, accessToken, 200, RECOVERY_BOUND_MS + 5000);
        expect(took).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
        expect(app.app.get(RevocationSync).status().fresh).toBe(true);
      } finally {
        proxy.restore();
        await closeWithin(app);
      }
    }, 60_000);

    it('an allowlist look-up against a hanging database is a 503 within storeTimeout, and none lands on a hung connection afterwards', async () => {
      // maxStaleness long enough that the state stays trusted: a 503 can only come from the look-up.
      const app = await guardedApp(throughProxy(proxied), {
        mode: 'allowlist',
        syncInterval: 5,
        maxStaleness: 60,
        storeTimeout: STORE_TIMEOUT,
      });
      try {
        const seen = (await direct.tokens.issue('allowlist-user')).accessToken;
        expect((await getMe(app, seen)).status).toBe(200);
        // Issued by the other instance: this one has not seen it, so its guard asks the database.
        const unseen = (await direct.tokens.issue('allowlist-user')).accessToken;
        proxy.stall();
        try {
          const reply = await getMe(app, unseen);
          expect(reply).toMatchObject({ status: 503, body: UNCHECKED });
          expect(reply.ms).toBeLessThan(STORE_TIMEOUT * 1000 + 1000);
          // What this instance knows is still served from memory.
          expect((await getMe(app, seen)).status).toBe(200);
        } finally {
          proxy.restore();
        }
        await untilStatus(app, unseen, 200, RECOVERY_BOUND_MS);
        // Each look-up from here on reaches the database. None may land on a connection that hung in the
        // stall: not while the driver still waits on it, nor once the driver gave up and the pool has it back.
        const failures: string[] = [];
        for (const until = Date.now() + DRIVER_TIMEOUT_MS + 3000; Date.now() < until; await sleep(250)) {
          const reply = await getMe(app, (await direct.tokens.issue('allowlist-user')).accessToken);
          if (reply.status !== 200)
            failures.push(`${reply.status} ${String(reply.body.message ?? '')} after ${reply.ms} ms`);
        }
        expect(failures).toEqual([]);
      } finally {
        await closeWithin(app);
      }
    }, 60_000);
  });
}
