import type { SecurityEvent } from '../../interfaces/security-event.interface.js';
import type { ContractContext } from './context.js';
import { DAY, HOUR, MINUTE, T0, atOnce, login, uid, type Login } from './fixtures.js';

/** The audit trail: the security events revokes record, listSecurityEvents, recordSecurityEvent, their purge. */
export function securityEventCases({ it, describe, expect, store, concurrency }: ContractContext): void {
  const CLIENT = { ip: '203.0.113.7', userAgent: 'Agent/7' };

  async function loggedIn(subject: string, at = T0, extra: { ip?: string; userAgent?: string } = {}): Promise<Login> {
    const l = login(subject, { at, ...extra });
    await store().createSession(l.input);
    return l;
  }

  /** Every event of a subject, newest first. */
  const eventsOf = (subject: string) => store().listSecurityEvents({ subject, before: null, limit: 1000 });

  /** What an event holds besides its seq. */
  const without = ({ seq: _seq, ...rest }: SecurityEvent) => rest;

  describe('what revokes record', () => {
    it('each revoke that changes something records its event, with the client given, in the same call', async () => {
      const subject = uid('sec');
      const [a, b, c] = [await loggedIn(subject), await loggedIn(subject), await loggedIn(subject)];
      const t = T0 + MINUTE;
      await store().revokeToken(a.access.jti, 'admin', t + 1, CLIENT);
      await store().revokeSession(a.session.sessionId, 'logout', t + 2, CLIENT);
      const unknown = uid('sid');
      await store().revokePresented(
        { subject, sessionId: unknown, jti: uid('jti'), issuedAt: T0, expiresAt: T0 + HOUR },
        'logout',
        t + 3,
        CLIENT,
      );
      await store().revokeOtherSessions(subject, c.session.sessionId, 'password_change', t + 4, CLIENT);
      await store().revokeSubject(subject, 'logout_all', t + 5, CLIENT);

      const events = await eventsOf(subject);
      const session = (sessionId: string, reason: string, at: number) => ({
        at,
        type: 'session_revoked',
        subject,
        sessionId,
        target: null,
        reason,
        ...CLIENT,
      });
      expect(events.map(without)).toEqual([
        { at: t + 5, type: 'subject_revoked', subject, sessionId: null, target: null, reason: 'logout_all', ...CLIENT },
        session(b.session.sessionId, 'password_change', t + 4),
        session(unknown, 'logout', t + 3),
        session(a.session.sessionId, 'logout', t + 2),
        {
          at: t + 1,
          type: 'token_revoked',
          subject,
          sessionId: a.session.sessionId,
          target: a.access.jti,
          reason: 'admin',
          ...CLIENT,
        },
      ]);
      for (let i = 1; i < events.length; i++) expect(events[i - 1].seq).toBeGreaterThan(events[i].seq);
    });

    it('a login past the session cap records each eviction (session_limit), with the new login as the client', async () => {
      const subject = uid('sec');
      const [a, b] = [await loggedIn(subject, T0), await loggedIn(subject, T0 + 1)];
      const capped = login(subject, { at: T0 + 2, maxSessions: 1, ip: '198.51.100.9', userAgent: 'Newcomer/1' });
      await store().createSession(capped.input);
      const events = await eventsOf(subject);
      expect(events.map(without)).toEqual(
        [b, a].map((l) => ({
          at: T0 + 2,
          type: 'session_revoked',
          subject,
          sessionId: l.session.sessionId,
          target: null,
          reason: 'session_limit',
          ip: '198.51.100.9',
          userAgent: 'Newcomer/1',
        })),
      );
    });

    it('records nothing for a revoke that changes nothing, and a null client when none is given', async () => {
      const subject = uid('sec');
      const a = await loggedIn(subject);
      await store().revokeSession(a.session.sessionId, 'logout', T0 + 1);
      const once = await eventsOf(subject);
      expect(once.map(without)).toEqual([
        {
          at: T0 + 1,
          type: 'session_revoked',
          subject,
          sessionId: a.session.sessionId,
          target: null,
          reason: 'logout',
          ip: null,
          userAgent: null,
        },
      ]);
      // Again, by every way in: the session, its tokens, the presented token, the other sessions.
      await store().revokeSession(a.session.sessionId, 'admin', T0 + 2, CLIENT);
      await store().revokeToken(a.access.jti, 'admin', T0 + 3, CLIENT);
      await store().revokePresented(
        { subject, sessionId: a.session.sessionId, jti: a.access.jti, issuedAt: T0, expiresAt: T0 + HOUR },
        'logout',
        T0 + 4,
        CLIENT,
      );
      expect(await store().revokeOtherSessions(subject, uid('sid'), 'admin', T0 + 5, CLIENT)).toEqual([]);
      expect(await eventsOf(subject)).toEqual(once);
      expect(await store().revokeSession(uid('sid'), 'logout', T0 + 6, CLIENT)).toBeNull();
      expect(await store().revokeToken(uid('jti'), 'logout', T0 + 6, CLIENT)).toBeNull();
      expect(await eventsOf(subject)).toEqual(once);
    });

    it(`concurrent revokes of one session record one event`, async () => {
      const subject = uid('sec');
      const a = await loggedIn(subject);
      await atOnce(concurrency, (i) => store().revokeSession(a.session.sessionId, 'logout', T0 + 1 + i, CLIENT));
      expect(await eventsOf(subject)).toHaveLength(1);
    });
  });

  describe('listSecurityEvents and recordSecurityEvent', () => {
    it('pages a subject newest first: `before` continues after the last seq, `limit` caps a page', async () => {
      const subject = uid('sec');
      const other = uid('sec');
      const sessions: Login[] = [];
      for (let i = 0; i < 5; i++) sessions.push(await loggedIn(subject, T0 + i));
      await loggedIn(other);
      for (const [i, l] of sessions.entries()) await store().revokeSession(l.session.sessionId, 'logout', T0 + DAY + i);
      await store().revokeSubject(other, 'logout_all', T0 + DAY);

      const first = await store().listSecurityEvents({ subject, before: null, limit: 2 });
      expect(first.map((e) => e.sessionId)).toEqual([sessions[4].session.sessionId, sessions[3].session.sessionId]);
      const second = await store().listSecurityEvents({ subject, before: first[1].seq, limit: 2 });
      expect(second.map((e) => e.sessionId)).toEqual([sessions[2].session.sessionId, sessions[1].session.sessionId]);
      const last = await store().listSecurityEvents({ subject, before: second[1].seq, limit: 2 });
      expect(last.map((e) => e.sessionId)).toEqual([sessions[0].session.sessionId]);
      expect(await store().listSecurityEvents({ subject, before: last[0].seq, limit: 2 })).toEqual([]);
      // Nothing of another subject on any page.
      expect([...first, ...second, ...last].every((e) => e.subject === subject)).toBe(true);
      expect(await store().listSecurityEvents({ subject: uid('nobody'), before: null, limit: 10 })).toEqual([]);
    });

    it('records an event no revoke writes (a key retired), listed with every event when no subject is asked', async () => {
      const subject = uid('sec');
      const a = await loggedIn(subject);
      await store().revokeSession(a.session.sessionId, 'logout', T0 + 2 * DAY);
      const retired = {
        at: T0 + 2 * DAY + 1,
        type: 'key_retired' as const,
        subject: null,
        sessionId: null,
        target: 'k-2026-01',
        reason: null,
        ...CLIENT,
      };
      await store().recordSecurityEvent(retired);
      const [newest, before] = await store().listSecurityEvents({ subject: undefined, before: null, limit: 2 });
      expect(without(newest)).toEqual(retired);
      expect(before).toMatchObject({ subject, sessionId: a.session.sessionId, type: 'session_revoked' });
      expect(newest.seq).toBeGreaterThan(before.seq);
      // A subject's page leaves out what has none.
      expect((await eventsOf(subject)).map((e) => e.type)).toEqual(['session_revoked']);
    });
  });

  describe('purgeSecurityEvents', () => {
    it('deletes up to `limit` of the events older than `before`, oldest first, and nothing newer', async () => {
      const subject = uid('sec');
      const old = T0 - 400 * DAY;
      for (let i = 0; i < 3; i++) {
        const l = await loggedIn(subject, old + i);
        await store().revokeSession(l.session.sessionId, 'logout', old + i);
      }
      const kept = await loggedIn(subject);
      await store().revokeSession(kept.session.sessionId, 'logout', T0 + 1);
      const purged = await store().sweep(async (batches) => {
        if (!batches.purgeSecurityEvents) throw new Error('a store that lists security events must purge them too');
        return [await batches.purgeSecurityEvents(old + 10, 2), await batches.purgeSecurityEvents(old + 10, 2)];
      });
      expect(purged).toEqual([2, 1]);
      expect((await eventsOf(subject)).map((e) => e.at)).toEqual([T0 + 1]);
    });
  });
}
