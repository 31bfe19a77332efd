import type { ContractContext } from './context.js';
import { DAY, HOUR, MINUTE, T0, login, uid } from './fixtures.js';

/** createSession, subjectEpoch, findToken / findSession, listActiveSessions, touchSessions. */
export function sessionCases({ it, describe, expect, store }: ContractContext): void {
  describe('createSession', () => {
    it('writes the session and its tokens as given, with the subject version filled in', async () => {
      const a = login(uid('ada'), {
        claims: { role: 'admin', scopes: ['a', 'b'], n: 1 },
        userAgent: 'Agent/1',
        ip: '10.0.0.1',
      });
      expect(await store().createSession(a.input)).toEqual({ created: true, subjectVersion: 0, evicted: [] });
      expect(await store().findSession(a.session.sessionId)).toEqual(a.session);
      expect(await store().findToken(a.access.jti)).toEqual({ ...a.access, subjectVersion: 0 });
      expect(await store().findToken(a.refresh.jti)).toEqual({ ...a.refresh, subjectVersion: 0 });
    });

    it('findToken and findSession answer null for what was never written', async () => {
      expect(await store().findToken(uid('nojti'))).toBeNull();
      expect(await store().findSession(uid('nosid'))).toBeNull();
    });

    it('fills in the version a revokeSubject raised', async () => {
      const subject = uid('bob');
      const { version } = await store().revokeSubject(subject, 'logout_all', T0);
      const b = login(subject, { at: T0 + 1 });
      expect(await store().createSession(b.input)).toEqual({ created: true, subjectVersion: version, evicted: [] });
      expect(await store().findToken(b.access.jti)).toMatchObject({ subjectVersion: version });
      expect(await store().findToken(b.refresh.jti)).toMatchObject({ subjectVersion: version });
    });

    it("creates with the subject's epoch (or none), refuses with another and then writes and evicts nothing", async () => {
      const subject = uid('cleo');
      const first = login(subject, { epoch: 0 });
      expect(await store().createSession(first.input)).toMatchObject({ created: true });
      await store().revokeOtherSessions(subject, first.session.sessionId, 'password_change', T0 + 1);
      const epoch = await store().subjectEpoch(subject);

      const stale = login(subject, { at: T0 + 2, epoch: epoch - 1, maxSessions: 1 });
      expect(await store().createSession(stale.input)).toEqual({ created: false });
      expect(await store().findSession(stale.session.sessionId)).toBeNull();
      expect(await store().findToken(stale.access.jti)).toBeNull();
      expect(await store().findToken(stale.refresh.jti)).toBeNull();
      expect(await store().findSession(first.session.sessionId)).toMatchObject({ revokedAt: null });

      expect(await store().createSession(login(subject, { at: T0 + 3, epoch }).input)).toMatchObject({ created: true });
      expect(await store().createSession(login(subject, { at: T0 + 4, epoch: null }).input)).toMatchObject({
        created: true,
      });
    });

    it('past maxSessions, revokes the oldest live sessions (reason session_limit) and returns an event for each', async () => {
      const subject = uid('dan');
      const logins = [1, 2, 3, 4, 5].map((i) => login(subject, { at: T0 + i * MINUTE }));
      for (const l of logins.slice(0, 3)) await store().createSession({ ...l.input, maxSessions: 3 });

      const fourth = await store().createSession({ ...logins[3].input, maxSessions: 3 });
      expect(fourth).toMatchObject({
        created: true,
        evicted: [{ kind: 'session', key: logins[0].session.sessionId, value: 0 }],
      });
      expect(await store().findSession(logins[0].session.sessionId)).toMatchObject({ revokeReason: 'session_limit' });
      expect(await store().findToken(logins[0].access.jti)).toMatchObject({ revokeReason: 'session_limit' });
      expect(await store().findToken(logins[0].refresh.jti)).toMatchObject({ revokeReason: 'session_limit' });

      const fifth = await store().createSession({ ...logins[4].input, maxSessions: 2 });
      const evicted = fifth.created ? fifth.evicted.map((e) => e.key).sort() : [];
      expect(evicted).toEqual([logins[1].session.sessionId, logins[2].session.sessionId].sort());
      const live = await store().listActiveSessions(subject, logins[4].session.createdAt, { limit: 10, after: null });
      expect(live.map((s) => s.sessionId)).toEqual([logins[4].session.sessionId, logins[3].session.sessionId]);
    });

    it('counts only live sessions against maxSessions: revoked ones and ones expired at the new createdAt do not', async () => {
      const subject = uid('eve');
      const revoked = login(subject, { at: T0 });
      const expired = login(subject, { at: T0, refreshTtl: HOUR });
      const live = login(subject, { at: T0 + MINUTE });
      for (const l of [revoked, expired, live]) await store().createSession(l.input);
      await store().revokeSession(revoked.session.sessionId, 'logout', T0 + 2 * MINUTE);

      const next = login(subject, { at: T0 + HOUR, maxSessions: 2 });
      expect(await store().createSession(next.input)).toMatchObject({ created: true, evicted: [] });
      expect(await store().findSession(live.session.sessionId)).toMatchObject({ revokedAt: null });
    });
  });

  describe('subjectEpoch', () => {
    it('is 0 for a subject never seen', async () => {
      expect(await store().subjectEpoch(uid('nobody'))).toBe(0);
    });

    it('is raised by revokeSubject and revokeOtherSessions, not by logins or other revokes', async () => {
      const subject = uid('fay');
      const a = login(subject);
      await store().createSession(a.input);
      await store().revokeToken(a.access.jti, 'logout', T0 + 1);
      await store().revokeSession(a.session.sessionId, 'logout', T0 + 2);
      await store().revokePresented(
        { subject, sessionId: uid('sid'), jti: uid('jti'), issuedAt: T0, expiresAt: T0 + HOUR },
        'logout',
        T0 + 3,
      );
      expect(await store().subjectEpoch(subject)).toBe(0);

      await store().revokeSubject(subject, 'logout_all', T0 + 4);
      expect(await store().subjectEpoch(subject)).toBe(1);
      await store().revokeOtherSessions(subject, uid('sid'), 'password_change', T0 + 5);
      expect(await store().subjectEpoch(subject)).toBe(2);
    });
  });

  describe('listActiveSessions', () => {
    /** Ids that differ in their last letter only, so every database collation sorts them alike. */
    async function sessionsOf(subject: string) {
      const base = uid('ls');
      const at = (i: number) => T0 + i * MINUTE;
      const plan: Array<[string, number]> = [
        [`${base}-a`, at(1)],
        [`${base}-b`, at(2)],
        [`${base}-c`, at(2)],
        [`${base}-d`, at(2)],
        [`${base}-e`, at(3)],
        [`${base}-f`, at(4)],
      ];
      for (const [sessionId, createdAt] of plan)
        await store().createSession(login(subject, { sessionId, at: createdAt }).input);
      return base;
    }

    it('lists live sessions only, newest first by createdAt, then sessionId, both descending', async () => {
      const subject = uid('gus');
      const base = await sessionsOf(subject);
      await store().revokeSession(`${base}-e`, 'logout', T0 + 5 * MINUTE);
      const short = login(subject, { at: T0 + 5 * MINUTE, refreshTtl: HOUR });
      await store().createSession(short.input);
      await store().createSession(login(uid('other'), { at: T0 + 6 * MINUTE }).input);

      const now = short.session.expiresAt; // expired exactly now: not live
      const listed = await store().listActiveSessions(subject, now, { limit: 100, after: null });
      expect(listed.map((s) => s.sessionId)).toEqual([`${base}-f`, `${base}-d`, `${base}-c`, `${base}-b`, `${base}-a`]);
      expect(listed[0]).toEqual(login(subject, { sessionId: `${base}-f`, at: T0 + 4 * MINUTE }).session);
      expect(await store().listActiveSessions(subject, T0 + 2 * DAY, { limit: 100, after: null })).toEqual([]);
    });

    it('pages with limit and a keyset `after` (createdAt and sessionId of the last one seen)', async () => {
      const subject = uid('hal');
      const base = await sessionsOf(subject);
      const page = (after: { createdAt: number; sessionId: string } | null) =>
        store()
          .listActiveSessions(subject, T0, { limit: 2, after })
          .then((rows) => rows.map((s) => s.sessionId));
      const at = (i: number) => T0 + i * MINUTE;

      expect(await page(null)).toEqual([`${base}-f`, `${base}-e`]);
      expect(await page({ createdAt: at(3), sessionId: `${base}-e` })).toEqual([`${base}-d`, `${base}-c`]);
      // A session revoked between pages shifts nothing: the key, not a position, says where to go on.
      await store().revokeSession(`${base}-d`, 'logout', at(5));
      expect(await page({ createdAt: at(2), sessionId: `${base}-c` })).toEqual([`${base}-b`, `${base}-a`]);
      expect(await page({ createdAt: at(1), sessionId: `${base}-a` })).toEqual([]);
    });
  });

  describe('touchSessions', () => {
    it('moves lastSeenAt forward, never back, and ignores unknown sessions', async () => {
      const a = login(uid('ivy'));
      const b = login(uid('ivy'));
      await store().createSession(a.input);
      await store().createSession(b.input);
      const [ida, idb] = [a.session.sessionId, b.session.sessionId];

      await store().touchSessions(
        new Map([
          [ida, T0 + 10 * MINUTE],
          [idb, T0 + 20 * MINUTE],
          [uid('nosid'), T0 + MINUTE],
        ]),
      );
      expect(await store().findSession(ida)).toMatchObject({ lastSeenAt: T0 + 10 * MINUTE });
      expect(await store().findSession(idb)).toMatchObject({ lastSeenAt: T0 + 20 * MINUTE });

      await store().touchSessions(
        new Map([
          [ida, T0 + 5 * MINUTE],
          [idb, T0 + 30 * MINUTE],
        ]),
      );
      expect(await store().findSession(ida)).toMatchObject({ lastSeenAt: T0 + 10 * MINUTE });
      expect(await store().findSession(idb)).toMatchObject({ lastSeenAt: T0 + 30 * MINUTE });
      await store().touchSessions(new Map());
    });
  });
}
