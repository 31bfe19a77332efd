import 'reflect-metadata';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { TokenStore } from 'nestjs-jwt-revocation';
import { In } from 'typeorm';
import { eachDatabase } from '../support/databases.js';
import { bootModule, entities, type ModuleApp } from '../support/module-app.js';

/**
 * What the TypeORM store writes to its rows, checked in the rows: the subject's
 * counters, which sessions the cap evicts, and last-seen times written in bulk.
 * Each is reached by the service's suites too, but there only through answers
 * that a counter raised twice, or a different session evicted, would not change.
 */
eachDatabase('the TypeORM store, row by row', (database) => {
  let m: ModuleApp;

  beforeAll(async () => {
    m = await bootModule(database().fresh(), { maxSessionsPerSubject: 3 });
  });
  afterAll(async () => {
    await m?.close();
  });

  const counters = async (subject: string) => {
    const row = await m.source.getRepository(entities.subjectState).findOneByOrFail({ subject });
    return { tokenVersion: row.tokenVersion, epoch: row.epoch };
  };
  const sessions = () => m.source.getRepository(entities.session);

  it("logout everywhere raises the subject's token version and epoch by exactly one, seen before or not; signing out the others raises the epoch alone", async () => {
    const kept = await m.tokens.issue('rows.seen');
    expect(await counters('rows.seen')).toEqual({ tokenVersion: 0, epoch: 0 });
    await m.tokens.revokeAllForSubject('rows.seen');
    expect(await counters('rows.seen')).toEqual({ tokenVersion: 1, epoch: 1 });
    await m.tokens.revokeAllForSubject('rows.seen');
    expect(await counters('rows.seen')).toEqual({ tokenVersion: 2, epoch: 2 });

    await m.tokens.revokeAllForSubject('rows.never-seen');
    expect(await counters('rows.never-seen')).toEqual({ tokenVersion: 1, epoch: 1 });

    const current = await m.tokens.issue('rows.seen');
    await m.tokens.revokeOtherSessions('rows.seen', current.sessionId);
    expect(await counters('rows.seen')).toEqual({ tokenVersion: 2, epoch: 3 });
    expect((await m.tokens.findSession(kept.sessionId))?.revokeReason).toBe('logout_all');
  });

  it('past the session cap, the session created first goes, whatever order the rows were written in; equal times go by session id', async () => {
    const [a, b, c] = [
      await m.tokens.issue('rows.cap'),
      await m.tokens.issue('rows.cap'),
      await m.tokens.issue('rows.cap'),
    ];
    // Written a, b, c; created c, then b, then a.
    const t = Date.now() - 60_000;
    await sessions().update({ sessionId: c.sessionId }, { createdAt: t });
    await sessions().update({ sessionId: b.sessionId }, { createdAt: t + 1000 });
    await sessions().update({ sessionId: a.sessionId }, { createdAt: t + 2000 });
    await m.tokens.issue('rows.cap');
    const reasons = async () =>
      Object.fromEntries(
        await Promise.all(
          [a, b, c].map(async (s) => [
            s === a ? 'a' : s === b ? 'b' : 'c',
            (await m.tokens.findSession(s.sessionId))?.revokeReason,
          ]),
        ),
      );
    expect(await reasons()).toEqual({ a: null, b: null, c: 'session_limit' });

    // a and b now created at the same moment, before the fourth: the lower session id
    // goes, lower as the database sorts them (its collation, not JavaScript's order).
    await sessions().update({ sessionId: a.sessionId }, { createdAt: t + 1000 });
    const [first, second] = await sessions().find({
      where: { sessionId: In([a.sessionId, b.sessionId]) },
      order: { sessionId: 'ASC' },
    });
    await m.tokens.issue('rows.cap');
    expect((await m.tokens.findSession(first.sessionId))?.revokeReason).toBe('session_limit');
    expect((await m.tokens.findSession(second.sessionId))?.revokeReason).toBeNull();
  });

  it('last-seen times noted at the same second for several sessions are written to each of them', async () => {
    const [a, b, c] = [
      await m.tokens.issue('rows.seen-at'),
      await m.tokens.issue('rows.seen-at'),
      await m.tokens.issue('rows.seen-at'),
    ];
    const at = Date.now() + 60_000;
    await m.app.get(TokenStore).touchSessions(
      new Map([
        [a.sessionId, at],
        [b.sessionId, at],
        [c.sessionId, at + 1000],
      ]),
    );
    const seen = async (sessionId: string) => (await sessions().findOneByOrFail({ sessionId })).lastSeenAt;
    expect([await seen(a.sessionId), await seen(b.sessionId), await seen(c.sessionId)]).toEqual([at, at, at + 1000]);
  });
});
