import type { TokenRecord } from '../../interfaces/token-record.interface.js';
import type { ContractContext } from './context.js';
import { DAY, HOUR, MINUTE, T0, login, uid, type Login, type LoginOptions } from './fixtures.js';

type HistoryRow = TokenRecord & { archivedAt: number | null };

/** findHistory: the log and the archive read together. */
export function historyCases({ it, describe, expect, store }: ContractContext): void {
  async function loggedIn(subject: string, options: LoginOptions): Promise<Login> {
    const l = login(subject, options);
    await store().createSession(l.input);
    return l;
  }

  async function archive(cutoff: number): Promise<void> {
    const moved = await store().sweep(async (batches) => {
      while ((await batches.archive(cutoff, cutoff, 1000)) > 0);
      return true;
    });
    expect(moved).toBe(true);
  }

  /** Newest first: issuedAt never rises down the list (the order of rows issued at the same time is the store's). */
  function expectNewestFirst(rows: HistoryRow[]): void {
    for (let i = 1; i < rows.length; i++) expect(rows[i - 1].issuedAt >= rows[i].issuedAt).toBe(true);
  }

  const jtis = (rows: Array<{ jti: string }>) => rows.map((row) => row.jti).sort();

  /** Three sessions an hour apart; the newest expires first, so the archive takes it (and the old access tokens). */
  async function threeSessions(subject: string) {
    const a = await loggedIn(subject, { at: T0 + HOUR });
    const b = await loggedIn(subject, { at: T0 + 2 * HOUR });
    const c = await loggedIn(subject, { at: T0 + 3 * HOUR, accessTtl: MINUTE, refreshTtl: 2 * MINUTE });
    return { a, b, c };
  }

  describe('findHistory', () => {
    it("a subject's rows from the log and the archive together, newest first; archived rows carry archivedAt", async () => {
      const subject = uid('his');
      const { a, b, c } = await threeSessions(subject);
      await loggedIn(uid('other'), { at: T0 + 2 * HOUR });
      const cutoff = T0 + 4 * HOUR;
      await archive(cutoff);

      const rows = await store().findHistory({ subject, limit: 100 });
      expect(jtis(rows)).toEqual(jtis([a.access, a.refresh, b.access, b.refresh, c.access, c.refresh]));
      expectNewestFirst(rows);
      const row = (jti: string) => rows.find((r) => r.jti === jti);
      expect(row(c.refresh.jti)).toEqual({ ...c.refresh, subjectVersion: 0, archivedAt: cutoff });
      expect(row(a.access.jti)).toEqual({ ...a.access, subjectVersion: 0, archivedAt: cutoff });
      expect(row(b.refresh.jti)).toEqual({ ...b.refresh, subjectVersion: 0, archivedAt: null });
    });

    it("a session's rows, from the log and the archive", async () => {
      const subject = uid('his');
      const { b, c } = await threeSessions(subject);
      await archive(T0 + 4 * HOUR);
      expect(jtis(await store().findHistory({ sessionId: c.session.sessionId, limit: 100 }))).toEqual(
        jtis([c.access, c.refresh]),
      );
      expect(jtis(await store().findHistory({ sessionId: b.session.sessionId, limit: 100 }))).toEqual(
        jtis([b.access, b.refresh]),
      );
      expect(await store().findHistory({ sessionId: uid('nosid'), limit: 100 })).toEqual([]);
    });

    it('at most limit rows, the newest ones, wherever they are', async () => {
      const subject = uid('his');
      const { b, c } = await threeSessions(subject);
      await archive(T0 + 4 * HOUR);
      expect(jtis(await store().findHistory({ subject, limit: 2 }))).toEqual(jtis([c.access, c.refresh]));
      expect(jtis(await store().findHistory({ subject, limit: 4 }))).toEqual(
        jtis([b.access, b.refresh, c.access, c.refresh]),
      );
    });

    it('validAt: rows issued at or before it, expiring after it, and not revoked at or before it', async () => {
      const v = T0 + 200 * DAY;
      const subject = uid('valid');
      const at = (offset: number, ttl: number) =>
        loggedIn(subject, { at: v + offset, accessTtl: ttl, refreshTtl: ttl });
      const valid = await at(-10, 3 * HOUR); // issued before, expires after (and stays in the log)
      const issuedThen = await at(0, 10); // issued at v
      await at(1, 10); // issued after v
      await at(-10, 10); // expires at v
      const revokedBefore = await at(-10, 20);
      const revokedThen = await at(-10, 20);
      const revokedAfter = await at(-10, 20);
      const archived = await at(-HOUR, 2 * HOUR);
      await store().revokeSession(revokedBefore.session.sessionId, 'logout', v - 1);
      await store().revokeSession(revokedThen.session.sessionId, 'logout', v);
      await store().revokeSession(revokedAfter.session.sessionId, 'logout', v + 5);
      await archive(v + 2 * HOUR);
      expect(await store().findToken(archived.access.jti)).toBeNull();
      expect(await store().findToken(valid.access.jti)).not.toBeNull();

      const expected = [valid, issuedThen, revokedAfter, archived].flatMap((l) => [l.access, l.refresh]);
      const rows = await store().findHistory({ validAt: v, limit: 100 });
      expect(jtis(rows)).toEqual(jtis(expected));
      expectNewestFirst(rows);
      expect(jtis(await store().findHistory({ subject, validAt: v, limit: 100 }))).toEqual(jtis(expected));
      expect(jtis(await store().findHistory({ subject: uid('nobody'), validAt: v, limit: 100 }))).toEqual([]);
    });
  });
}
