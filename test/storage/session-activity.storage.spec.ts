import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { jwtRevocationEntitySet, SessionActivity } from 'nestjs-jwt-revocation/testing';
import { DataSource } from 'typeorm';
import { eachDatabase } from '../support/databases.js';
import { tokensOf } from '../support/guard-app.js';
import { bootModule } from '../support/module-app.js';
import { bootProbeApp, probe } from '../support/probe-app.js';
import { appForSuite } from '../support/suite-app.js';
import { sleep, within } from '../support/time.js';

/**
 * README: "Last seen" is kept in memory by the guard and written to jwt_session every
 * lastSeenFlushInterval seconds (and at shutdown), never once per request.
 */

/** The stored last_seen of a session, epoch ms. */
async function storedLastSeen(app: INestApplication, sessionId: string): Promise<number> {
  const row = await app.get(DataSource).getRepository(jwtRevocationEntitySet().session).findOneByOrFail({ sessionId });
  return row.lastSeenAt;
}

/** The same read on another app over the same database: the first one may be closed. */
async function lastSeenAfterRestart(database: TypeOrmModuleOptions, sessionId: string): Promise<number> {
  const other = await bootModule(database);
  try {
    return await storedLastSeen(other.app, sessionId);
  } finally {
    await other.close();
  }
}

/**
 * Issues a session, waits into a later second (the guard notes whole seconds), then sends
 * `requests` guarded requests. Returns the session, its last_seen as written at login, and
 * the bounds of the time the last request must have been noted at.
 */
async function seenThroughGuard(app: INestApplication, subject: string, requests: number) {
  const pair = await tokensOf(app).issue(subject);
  const atLogin = await storedLastSeen(app, pair.sessionId);
  await sleep(1100);
  let from = 0;
  for (let i = 0; i < requests; i++) {
    from = Math.floor(Date.now() / 1000) * 1000;
    expect(await probe(app, pair.accessToken)).toBe(200);
  }
  const to = Date.now();
  return { pair, atLogin, from, to };
}

eachDatabase('session activity (last seen)', (database) => {
  const db = database();

  describe('lastSeenFlushInterval 60 (the default)', () => {
    const app = appForSuite(() => bootProbeApp(db.fresh()));

    it('guarded requests are noted in memory, not written: the row keeps its last_seen until a flush', async () => {
      const { pair, atLogin, from, to } = await seenThroughGuard(app, 'seen.ann', 5);
      // In memory, the guard noted the last request...
      const noted = app.get(SessionActivity).lastSeen(pair.sessionId);
      expect(noted).toBeGreaterThanOrEqual(from);
      expect(noted).toBeLessThanOrEqual(to);
      expect(noted).toBeGreaterThan(atLogin);
      // ...and five requests wrote nothing: no write per request.
      expect(await storedLastSeen(app, pair.sessionId)).toBe(atLogin);
    });
  });

  describe('lastSeenFlushInterval 60, then shutdown', () => {
    it('app.close() writes what the guard noted since the last flush', async () => {
      const app = await bootProbeApp(db.fresh());
      let seen: Awaited<ReturnType<typeof seenThroughGuard>>;
      try {
        seen = await seenThroughGuard(app, 'seen.bea', 3);
        expect(await storedLastSeen(app, seen.pair.sessionId)).toBe(seen.atLogin);
      } finally {
        await app.close();
      }
      const written = await lastSeenAfterRestart(db.reopen(), seen.pair.sessionId);
      expect(written).toBeGreaterThanOrEqual(seen.from);
      expect(written).toBeLessThanOrEqual(seen.to);
      expect(written).toBeGreaterThan(seen.atLogin);
    });
  });

  describe('lastSeenFlushInterval 1', () => {
    const app = appForSuite(() => bootProbeApp(db.fresh(), { lastSeenFlushInterval: 1 }));

    it('the timer writes the noted time while the app runs, and the memory lets it go', async () => {
      const { pair, atLogin, from, to } = await seenThroughGuard(app, 'seen.cid', 3);
      // The interval passes: the row gets the time of the last request, with no shutdown and no other write.
      await within(10_000, async () => (await storedLastSeen(app, pair.sessionId)) >= from);
      expect(from).toBeGreaterThan(atLogin);
      const written = await storedLastSeen(app, pair.sessionId);
      expect(written).toBeGreaterThanOrEqual(from);
      expect(written).toBeLessThanOrEqual(to);
      expect(app.get(SessionActivity).lastSeen(pair.sessionId)).toBeUndefined();
      // The session listing reads the row: it reports the written time.
      const listed = (await tokensOf(app).listSessions('seen.cid')).sessions.find((s) => s.id === pair.sessionId);
      expect(listed?.lastSeenAt.getTime()).toBe(written);
    });
  });
});
