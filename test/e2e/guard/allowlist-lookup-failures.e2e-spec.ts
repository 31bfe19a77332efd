import 'reflect-metadata';
import { expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { JwtRevocationModuleOptions } from 'nestjs-jwt-revocation';
import { TypeOrmTokenStore } from 'nestjs-jwt-revocation/testing';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { databaseOptions } from '../../../sample/config.js';
import { eachDatabase } from '../../support/databases.js';
import { decodePart, forge } from '../../support/forge.js';
import { WhoController } from '../../support/guard-app.js';
import { bearer } from '../../support/http.js';
import { TEST_SECRET } from '../../support/keys.js';
import { testLogs } from '../../support/logs.js';
import { bootModule, entities, type ModuleApp } from '../../support/module-app.js';
import { proxyFor } from '../../support/stall-helpers.js';
import { within } from '../../support/time.js';

/**
 * README, "The guard": in allowlist mode a jti this instance has not seen is
 * looked up in the database; when that look-up fails the answer is 503, never
 * 200 and never 500, and past `allowlistLookupConcurrency` look-ups in flight
 * a request is refused with 503 rather than queued. (A look-up that hangs is
 * test/e2e/stalled-database.e2e-spec.ts.) The state stays trusted throughout
 * (catch-ups minutes apart): a 503 here can only come from the look-up.
 */
const OPTIONS: Partial<JwtRevocationModuleOptions> = {
  mode: 'allowlist',
  syncInterval: 300,
  maxStaleness: 600,
  lastSeenFlushInterval: 300,
};

const UNCHECKED = { statusCode: 503, message: 'Token check unavailable, retry shortly', error: 'Service Unavailable' };
/** What a request that waited for a look-up slot would look like here: no answer while the gate is closed. */
const QUEUED = { status: 'queued', body: {}, headers: {} as Record<string, string> };
/** The answer, or QUEUED if none came within 5 s (the timer is cleared either way, so nothing outlives the test). */
async function unlessQueued(answer: PromiseLike<request.Response>): Promise<request.Response | typeof QUEUED> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      answer,
      new Promise<typeof QUEUED>((resolve) => (timer = setTimeout(resolve, 5000, QUEUED))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
const BUSY = { statusCode: 503, message: 'Token check is busy, retry shortly', error: 'Service Unavailable' };

// The reason of each failed look-up goes to the log; closing a data source under the app provokes the driver's own.
testLogs.expect(
  /^token check failed: /,
  /^could not write session activity: /,
  /^Failed to close the "default"/,
  /^LISTEN connection lost: /,
);

/** A token signed with the app's key whose jti the app has never seen: the guard must ask the database. */
function unseenToken(issued: string): string {
  const claims = { ...decodePart(issued, 1), jti: randomBytes(16).toString('base64url') };
  return forge(decodePart(issued, 0), claims, TEST_SECRET);
}

const who = (m: ModuleApp, token: string) => request(m.app.getHttpServer()).get('/who').set(bearer(token));

/** The TypeORM store, with the allowlist look-up held at a gate the test opens. */
class GatedStore extends TypeOrmTokenStore {
  entered = 0;
  private open!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.open = resolve));

  override async findActiveAccessToken(jti: string, now: number): Promise<number | null> {
    this.entered++;
    await this.gate;
    return super.findActiveAccessToken(jti, now);
  }

  release(): void {
    this.open();
  }
}

eachDatabase('allowlist look-ups that fail', (database) => {
  const db = database();

  it('a look-up on a closed database is a JSON 503 with Retry-After, never 500 or 200; what memory holds still passes', async () => {
    // Polling: a LISTEN connection, never given back to the pool, would hold the pool's end (destroy) for ever.
    const m = await bootModule(db.fresh(), { ...OPTIONS, propagation: 'poll' }, { controllers: [WhoController] });
    try {
      const { accessToken } = await m.tokens.issue('allowlist.closed');
      const unseen = unseenToken(accessToken);
      await who(m, accessToken).expect(200);
      await m.source.destroy();

      const res = await who(m, unseen);
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body).toEqual(UNCHECKED);
      expect(testLogs.take(/^token check failed: /)).toEqual([
        { level: 'error', context: 'JwtRevocation', message: expect.stringMatching(/^token check failed: .+/) },
      ]);
      // A token this instance issued is known in memory: no look-up, no database needed.
      await who(m, accessToken).expect(200);
    } finally {
      await m.close();
    }
  });

  it('past allowlistLookupConcurrency look-ups in flight, a request with another unseen jti is a JSON 503 at once', async () => {
    let store!: GatedStore;
    const m = await bootModule(
      db.fresh(),
      { ...OPTIONS, allowlistLookupConcurrency: 2 },
      {
        controllers: [WhoController],
        store: (source: DataSource) => (store = new GatedStore(source, entities)),
      },
    );
    try {
      const first = await m.tokens.issue('allowlist.busy');
      const other = await m.tokens.issue('allowlist.busy');
      // Two look-ups held in flight: the cap.
      const held = [unseenToken(first.accessToken), unseenToken(first.accessToken)].map((token) =>
        who(m, token).then((res) => res),
      );
      await within(5000, () => store.entered === 2);

      // Answered while the gate is still closed: refused, not queued behind the held ones.
      const refused = await unlessQueued(who(m, unseenToken(first.accessToken)));
      expect(refused.status).toBe(503);
      expect(refused.body).toEqual(BUSY);
      expect(refused.headers['retry-after']).toBe('5');
      expect(store.entered).toBe(2);
      // Tokens this instance knows need no look-up: they pass while the cap is reached.
      await who(m, other.accessToken).expect(200);

      store.release();
      // The held ones got their answer from the database: jtis that are not in the log.
      expect((await Promise.all(held)).map((res) => res.status)).toEqual([401, 401]);
      // Once they are done, a look-up is let through again.
      expect((await who(m, unseenToken(first.accessToken))).status).toBe(401);
      expect(store.entered).toBe(3);
    } finally {
      store.release();
      await m.close();
    }
  });

  if (db.name !== 'sqlite')
    it('a look-up on a database that cannot be reached (connections reset) is a JSON 503, and a 200 again once it is back', async () => {
      const url = db.name === 'postgres' ? process.env.TEST_POSTGRES_URL! : process.env.TEST_MYSQL_URL!;
      const { proxy, url: proxied } = await proxyFor(url.replace(/^mysql:/, 'mariadb:'));
      const direct = await bootModule(db.fresh(), OPTIONS);
      const m = await bootModule(databaseOptions(proxied), OPTIONS, { controllers: [WhoController] });
      try {
        // Issued by the other instance: this one has to look it up.
        const { accessToken } = await direct.tokens.issue('allowlist.unreachable');
        proxy.cut();
        try {
          const res = await who(m, accessToken);
          expect(res.status).toBe(503);
          expect(res.headers['content-type']).toMatch(/^application\/json/);
          expect(res.body).toEqual(UNCHECKED);
          expect(testLogs.take(/^token check failed: /).length).toBe(1);
        } finally {
          proxy.restore();
        }
        // The pool may hand out one more dead connection: a 503 then, never a 500 or a 200 unchecked.
        const seen: number[] = [];
        await within(10_000, async () => {
          const status = (await who(m, accessToken)).status;
          seen.push(status);
          return status === 200;
        });
        expect(seen.filter((status) => status !== 503 && status !== 200)).toEqual([]);
        testLogs.take(/^token check failed: /);
      } finally {
        await m.close();
        await direct.close();
        await proxy.close();
      }
    });
});
