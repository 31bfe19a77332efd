import type { ContractContext } from './context.js';
import { HOUR, MINUTE, T0, atOnce, login, uid, type Login } from './fixtures.js';

/** revokeToken, revokeSession, revokePresented, revokeSubject, revokeOtherSessions. */
export function revocationCases({ it, describe, expect, store, concurrency }: ContractContext): void {
  async function loggedIn(subject = uid('rev'), at = T0): Promise<Login> {
    const l = login(subject, { at });
    await store().createSession(l.input);
    return l;
  }

  describe('revokeToken', () => {
    it('revokes an access token once: changed with a token event, then unchanged with none, keeping the first revocation', async () => {
      const l = await loggedIn();
      const now = T0 + MINUTE;
      const { access } = l;
      expect(await store().revokeToken(access.jti, 'logout', now)).toMatchObject({
        jti: access.jti,
        subject: access.subject,
        sessionId: access.sessionId,
        tokenType: 'access',
        expiresAt: access.expiresAt,
        changed: true,
        event: { kind: 'token', key: access.jti, value: access.expiresAt, at: now },
      });
      expect(await store().findToken(access.jti)).toMatchObject({ revokedAt: now, revokeReason: 'logout' });

      expect(await store().revokeToken(access.jti, 'compromised', now + 1)).toMatchObject({
        jti: access.jti,
        changed: false,
        event: null,
      });
      expect(await store().findToken(access.jti)).toMatchObject({ revokedAt: now, revokeReason: 'logout' });
    });

    it('revokes a refresh token with no event (refresh tokens are checked in the store)', async () => {
      const l = await loggedIn();
      expect(await store().revokeToken(l.refresh.jti, 'logout', T0 + 1)).toMatchObject({
        tokenType: 'refresh',
        changed: true,
        event: null,
      });
      expect(await store().findToken(l.refresh.jti)).toMatchObject({ revokedAt: T0 + 1, revokeReason: 'logout' });
    });

    it('answers null for a jti it does not know', async () => {
      expect(await store().revokeToken(uid('nojti'), 'logout', T0)).toBeNull();
    });

    it('of concurrent revokes of one token, one changes it and has an event', async () => {
      const l = await loggedIn();
      const results = await atOnce(concurrency, (i) => store().revokeToken(l.access.jti, 'logout', T0 + i));
      expect(results.filter((r) => r?.changed)).toHaveLength(1);
      expect(results.filter((r) => r?.event)).toHaveLength(1);
    });
  });

  describe('revokeSession', () => {
    it('revokes the session and its tokens once, with a session event; a token revoked before keeps its revocation', async () => {
      const l = await loggedIn();
      await store().revokeToken(l.access.jti, 'compromised', T0 + 1);
      const now = T0 + MINUTE;
      const revoked = await store().revokeSession(l.session.sessionId, 'logout', now);
      expect(revoked).toEqual({
        session: { ...l.session, revokedAt: now, revokeReason: 'logout' },
        event: { seq: revoked?.event?.seq, kind: 'session', key: l.session.sessionId, value: 0, at: now },
      });
      expect(await store().findToken(l.refresh.jti)).toMatchObject({ revokedAt: now, revokeReason: 'logout' });
      expect(await store().findToken(l.access.jti)).toMatchObject({ revokedAt: T0 + 1, revokeReason: 'compromised' });

      expect(await store().revokeSession(l.session.sessionId, 'admin', now + 1)).toEqual({
        session: { ...l.session, revokedAt: now, revokeReason: 'logout' },
        event: null,
      });
    });

    it('answers null for a session it does not know', async () => {
      expect(await store().revokeSession(uid('nosid'), 'logout', T0)).toBeNull();
    });

    it('of concurrent revokes of one session, one has an event', async () => {
      const l = await loggedIn();
      const results = await atOnce(concurrency, (i) => store().revokeSession(l.session.sessionId, 'logout', T0 + i));
      expect(results.filter((r) => r?.event)).toHaveLength(1);
    });
  });

  describe('revokePresented', () => {
    it('writes a revoked session row for a session it never saw, expiring with the token; an event once, then null', async () => {
      const token = { subject: uid('pre'), sessionId: uid('sid'), jti: uid('jti'), issuedAt: T0, expiresAt: T0 + HOUR };
      const now = T0 + MINUTE;
      expect(await store().revokePresented(token, 'logout', now)).toMatchObject({
        kind: 'session',
        key: token.sessionId,
        value: 0,
        at: now,
      });
      expect(await store().findSession(token.sessionId)).toMatchObject({
        sessionId: token.sessionId,
        subject: token.subject,
        expiresAt: token.expiresAt,
        revokedAt: now,
        revokeReason: 'logout',
      });
      expect(await store().revokePresented(token, 'logout', now + 1)).toBeNull();
      const boot = await store().loadRevocations(now, now - 1);
      expect(boot.sessions.filter(([id]) => id === token.sessionId)).toEqual([[token.sessionId, now]]);
    });

    it('revokes a session it knows, tokens and all, as revokeSession does; null when revoked already', async () => {
      const l = await loggedIn();
      const token = {
        subject: l.session.subject,
        sessionId: l.session.sessionId,
        jti: l.access.jti,
        issuedAt: T0,
        expiresAt: l.access.expiresAt,
      };
      expect(await store().revokePresented(token, 'logout', T0 + 1)).toMatchObject({
        kind: 'session',
        key: l.session.sessionId,
      });
      expect(await store().findSession(l.session.sessionId)).toEqual({
        ...l.session,
        revokedAt: T0 + 1,
        revokeReason: 'logout',
      });
      expect(await store().findToken(l.refresh.jti)).toMatchObject({ revokedAt: T0 + 1 });

      const m = await loggedIn();
      await store().revokeSession(m.session.sessionId, 'logout', T0 + 1);
      expect(await store().revokePresented({ ...token, sessionId: m.session.sessionId }, 'logout', T0 + 2)).toBeNull();
    });
  });

  describe('revokeSubject', () => {
    it('raises the version, revokes live sessions and unexpired tokens, and returns one subject event', async () => {
      const subject = uid('sub');
      const a = await loggedIn(subject);
      const b = await loggedIn(subject, T0 + 1);
      const other = await loggedIn();
      await store().revokeToken(b.access.jti, 'compromised', T0 + 2);
      const now = T0 + MINUTE;

      const { version, event } = await store().revokeSubject(subject, 'password_change', now);
      expect(version).toBe(1);
      expect(event).toMatchObject({ kind: 'subject', key: subject, value: version, at: now });
      for (const id of [a.session.sessionId, b.session.sessionId]) {
        expect(await store().findSession(id)).toMatchObject({ revokedAt: now, revokeReason: 'password_change' });
      }
      for (const jti of [a.access.jti, a.refresh.jti, b.refresh.jti]) {
        expect(await store().findToken(jti)).toMatchObject({ revokedAt: now, revokeReason: 'password_change' });
      }
      expect(await store().findToken(b.access.jti)).toMatchObject({ revokedAt: T0 + 2, revokeReason: 'compromised' });
      expect(await store().findSession(other.session.sessionId)).toMatchObject({ revokedAt: null });
      expect(await store().findToken(other.access.jti)).toMatchObject({ revokedAt: null });
    });

    it('works for a subject never seen, and every call raises the version again', async () => {
      const subject = uid('new');
      expect(await store().revokeSubject(subject, 'subject_deleted', T0)).toMatchObject({
        version: 1,
        event: { value: 1 },
      });
      expect(await store().revokeSubject(subject, 'subject_deleted', T0 + 1)).toMatchObject({
        version: 2,
        event: { value: 2 },
      });
    });

    it('counts every one of concurrent calls: each returns a version of its own', async () => {
      const subject = uid('many');
      await loggedIn(subject);
      const results = await atOnce(concurrency, (i) => store().revokeSubject(subject, 'logout_all', T0 + i));
      const versions = results.map((r) => r.version).sort((x, y) => x - y);
      expect(versions).toEqual(Array.from({ length: concurrency }, (_, i) => i + 1));
      expect(await store().subjectEpoch(subject)).toBe(concurrency);
    });

    it('orders logins against it: a concurrent login with the old epoch is refused, or created and then revoked', async () => {
      for (let round = 0; round < 3; round++) {
        const subject = uid('race');
        const epoch = await store().subjectEpoch(subject);
        const l = login(subject, { epoch });
        const [created] = await Promise.all([
          store().createSession(l.input),
          store().revokeSubject(subject, 'password_change', T0 + 1),
        ]);
        const session = await store().findSession(l.session.sessionId);
        if (created.created) expect(session).toMatchObject({ revokedAt: T0 + 1 });
        else expect(session).toBeNull();
      }
    });
  });

  describe('revokeOtherSessions', () => {
    it('revokes every live session of the subject but one, with an event each, raising the epoch and not the version', async () => {
      const subject = uid('oth');
      const [a, keep, c] = [await loggedIn(subject), await loggedIn(subject, T0 + 1), await loggedIn(subject, T0 + 2)];
      const stranger = await loggedIn();
      const now = T0 + MINUTE;

      const events = await store().revokeOtherSessions(subject, keep.session.sessionId, 'password_change', now);
      expect(events.map((e) => e.key).sort()).toEqual([a.session.sessionId, c.session.sessionId].sort());
      for (const e of events) expect(e).toMatchObject({ kind: 'session', value: 0, at: now });
      for (const l of [a, c]) {
        expect(await store().findSession(l.session.sessionId)).toMatchObject({
          revokedAt: now,
          revokeReason: 'password_change',
        });
        expect(await store().findToken(l.refresh.jti)).toMatchObject({ revokedAt: now });
      }
      expect(await store().findSession(keep.session.sessionId)).toMatchObject({ revokedAt: null });
      expect(await store().findToken(keep.refresh.jti)).toMatchObject({ revokedAt: null });
      expect(await store().findSession(stranger.session.sessionId)).toMatchObject({ revokedAt: null });
      expect(await store().subjectEpoch(subject)).toBe(1);
      expect(await store().createSession(login(subject, { at: now + 1 }).input)).toMatchObject({ subjectVersion: 0 });

      expect(
        await store().revokeOtherSessions(subject, keep.session.sessionId, 'password_change', now + 2),
      ).toHaveLength(1);
      expect(await store().revokeOtherSessions(subject, keep.session.sessionId, 'password_change', now + 3)).toEqual(
        [],
      );
    });
  });
}
