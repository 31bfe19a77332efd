import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BadRequestException } from '@nestjs/common';
import { type TokenEvent } from 'nestjs-jwt-revocation';
import { JwtRevocationConfig } from 'nestjs-jwt-revocation/testing';
import { eachDatabase, type TestDatabase } from '../support/databases.js';
import { bootModule, claimsOf, entities, type ModuleApp } from '../support/module-app.js';
import { sleep } from '../support/time.js';
import { TEST_SECRET } from '../support/keys.js';

/** Issue 10, finding 5: sessions per subject are capped, and listed a page at a time. */
eachDatabase('sessions per subject', (db: () => TestDatabase) => {
  let m: ModuleApp;
  let database: TestDatabase;

  beforeAll(async () => {
    database = db();
    m = await bootModule(database.fresh(), { maxSessionsPerSubject: 3 });
  });

  afterAll(() => m?.close());

  describe('maxSessionsPerSubject', () => {
    it('a login past the cap revokes the oldest sessions, with reason session_limit, everywhere', async () => {
      const events: TokenEvent[] = [];
      const unsubscribe = m.events.subscribe((event) => void events.push(event));
      const logins = [];
      for (let i = 0; i < 5; i++) {
        logins.push(await m.tokens.issue('cap.ada'));
        await sleep(2); // distinct creation times: "oldest" is well defined
      }
      unsubscribe();
      const [first, second, ...kept] = logins;
      for (const old of [first, second]) {
        expect(await m.tokens.isRevoked(claimsOf(old.accessToken))).toBe(true);
        expect(await m.tokens.findSession(old.sessionId)).toMatchObject({
          revokeReason: 'session_limit',
          revokedAt: expect.any(Number),
        });
      }
      for (const live of kept) expect(await m.tokens.isRevoked(claimsOf(live.accessToken))).toBe(false);
      const page = await m.tokens.listSessions('cap.ada', { limit: 100 });
      expect(page.sessions.map((s) => s.id).sort()).toEqual(kept.map((k) => k.sessionId).sort());
      expect(events.filter((e) => e.type === 'revoked' && e.reason === 'session_limit')).toHaveLength(2);
      // Other instances learn it from the event table.
      const evictions = await m.source
        .getRepository(entities.revocationEvent)
        .findBy({ kind: 'session', key: first.sessionId });
      expect(evictions).toHaveLength(1);
    });

    it('refuses a cap that is not a positive whole number, naming the option', () => {
      for (const cap of [0, -1, 2.5, '3']) {
        expect(() =>
          JwtRevocationConfig.from({ signing: { secret: TEST_SECRET }, maxSessionsPerSubject: cap as number }),
        ).toThrow(/option "maxSessionsPerSubject" must be a positive whole number of sessions/);
      }
    });
  });

  describe('listSessions', () => {
    it('pages newest first with a cursor, without repeats or gaps', async () => {
      const wide = await bootModule(database.reopen(), { maxSessionsPerSubject: 50 });
      try {
        const ids: string[] = [];
        for (let i = 0; i < 7; i++) ids.push((await wide.tokens.issue('page.bob')).sessionId);
        const seen: string[] = [];
        let cursor: string | undefined;
        const sizes: number[] = [];
        do {
          const page = await wide.tokens.listSessions('page.bob', { limit: 3, cursor });
          sizes.push(page.sessions.length);
          seen.push(...page.sessions.map((s) => s.id));
          cursor = page.next ?? undefined;
        } while (cursor);
        expect(sizes).toEqual([3, 3, 1]);
        expect(seen.slice().sort()).toEqual(ids.slice().sort());
        const created = (await wide.tokens.listSessions('page.bob', { limit: 7 })).sessions.map((s) =>
          s.createdAt.getTime(),
        );
        expect(created).toEqual(created.slice().sort((a, b) => b - a));
      } finally {
        await wide.close();
      }
    });

    it('a bad limit or a cursor it did not hand out is a 400', async () => {
      for (const limit of [0, 101, 1.5])
        await expect(m.tokens.listSessions('page.bob', { limit })).rejects.toBeInstanceOf(BadRequestException);
      for (const cursor of [
        '',
        'garbage',
        Buffer.from('[1]').toString('base64url'),
        Buffer.from('{"a":1}').toString('base64url'),
      ]) {
        await expect(m.tokens.listSessions('page.bob', { cursor })).rejects.toBeInstanceOf(BadRequestException);
      }
    });
  });
});
