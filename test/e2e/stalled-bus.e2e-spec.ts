import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { TokenLogService } from 'nestjs-jwt-revocation';
import { RevocationSync } from 'nestjs-jwt-revocation/testing';
import { databaseOptions } from '../../sample/config.js';
import { tempSqliteDatabase } from '../support/databases.js';
import { testLogs } from '../support/logs.js';
import { bootModule, claimsOf, type ModuleApp } from '../support/module-app.js';
import {
  closeWithin,
  getMe,
  guardedApp,
  proxyFor,
  stallUntilNoticed,
  untilBus,
  untilStatus,
} from '../support/stall-helpers.js';
import type { TcpProxy } from '../support/tcp-proxy.js';

/**
 * The bus's own connection goes silent (the proxy's "stall"): a LISTEN
 * connection or a Redis subscriber that hears nothing looks just like one
 * with nothing to hear. The heartbeat must notice within syncInterval +
 * storeTimeout, and the bus must come back once new connections go through,
 * although the stalled ones stay black holes.
 */
const SYNC_INTERVAL = 2;
const MAX_STALENESS = 20;
const STORE_TIMEOUT = 1;
/** A heartbeat every syncInterval, answered within storeTimeout, or the connection is dropped. */
const NOTICED_MS = (SYNC_INTERVAL + STORE_TIMEOUT + 1) * 1000;
/** Reconnection back-off: at most 5 s (LISTEN), 2 s (ioredis here), plus opening the connection. */
const BACK_MS = (5 + STORE_TIMEOUT + 1) * 1000;
const timing = { syncInterval: SYNC_INTERVAL, maxStaleness: MAX_STALENESS, storeTimeout: STORE_TIMEOUT };

// What a silent bus connection makes the module log: provoked here on purpose.
testLogs.expect(
  /^revocation catch-up failed \(/,
  /^LISTEN connection lost: /,
  /^LISTEN failed, retrying: /,
  /^redis: /,
  /^redis subscribe: /,
);

const env = { postgres: process.env.TEST_POSTGRES_URL, redis: process.env.TEST_REDIS_URL };

function suite(title: string, needs: keyof typeof env, body: () => void): void {
  if (env[needs]) describe(title, body);
  else if (process.env.CI)
    describe(title, () =>
      it(`needs TEST_${needs.toUpperCase()}_URL: CI must run it`, () => expect(env[needs]).toBeDefined()),
    );
  else console.warn(`\n*** SKIPPED: "${title}": set TEST_${needs.toUpperCase()}_URL to run it. ***\n`);
}

suite('stalled LISTEN connection [postgres]', 'postgres', () => {
  let proxy: TcpProxy;
  let proxied: string;
  let direct: ModuleApp;

  beforeAll(async () => {
    ({ proxy, url: proxied } = await proxyFor(env.postgres!));
    direct = await bootModule(databaseOptions(env.postgres!));
  }, 30_000);
  afterAll(async () => {
    await direct?.close();
    await proxy?.close();
  });

  it('the heartbeat notices a silent LISTEN connection, and the bus re-opens it once the database answers', async () => {
    const app = await guardedApp(databaseOptions(proxied), timing);
    try {
      const sync = app.app.get(RevocationSync);
      expect(sync.status()).toMatchObject({ mode: 'notify', busConnected: true });
      const { accessToken } = await direct.tokens.issue('listen-user');
      expect((await getMe(app, accessToken)).status).toBe(200);

      await stallUntilNoticed(proxy, sync, NOTICED_MS);
      await untilBus(sync, true, BACK_MS);
      // Revoked on the other instance: NOTIFY brings it here on the new LISTEN connection.
      expect(await direct.tokens.revoke(accessToken)).toBe(true);
      await untilStatus(app, accessToken, 401, SYNC_INTERVAL * 1000 + 1000);
    } finally {
      proxy.restore();
      await closeWithin(app);
    }
  }, 60_000);
});

suite('stalled Redis subscriber', 'redis', () => {
  let proxy: TcpProxy;
  let proxied: string;
  let publisher: Redis;

  beforeAll(async () => {
    ({ proxy, url: proxied } = await proxyFor(env.redis!));
    publisher = new Redis(env.redis!);
  });
  afterAll(async () => {
    await publisher?.quit();
    await proxy?.close();
  });

  it('socketTimeout and the PING heartbeat notice a silent Redis, and the subscriber comes back once Redis answers', async () => {
    const app = await guardedApp(tempSqliteDatabase('jwt-revocation-stalled-'), { ...timing, redis: proxied });
    try {
      const sync = app.app.get(RevocationSync);
      await untilBus(sync, true, BACK_MS);
      const { accessToken } = await app.app.get(TokenLogService).issue('redis-user');
      expect((await getMe(app, accessToken)).status).toBe(200);

      await stallUntilNoticed(proxy, sync, NOTICED_MS);
      await untilBus(sync, true, BACK_MS);
      // A revocation published by another instance reaches this one through the new subscriber connection.
      const claims = claimsOf(accessToken);
      const event = {
        seq: sync.status().lastSeq + 1,
        kind: 'token',
        key: claims.jti,
        value: claims.exp * 1000,
        at: Date.now(),
      };
      await publisher.publish('jwt_revocation_event', JSON.stringify(event));
      await untilStatus(app, accessToken, 401, 1000);
    } finally {
      proxy.restore();
      await closeWithin(app);
    }
  }, 60_000);
});
