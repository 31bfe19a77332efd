import type { ContractContext } from './context.js';
import { HOUR, MINUTE, T0, atOnce, login, renewal, uid, type Login } from './fixtures.js';

/** renewAccess: sliding renewal of an access token in its session. */
export function renewalCases({ it, describe, expect, store, concurrency }: ContractContext): void {
  async function loggedIn(subject = uid('ren')): Promise<Login> {
    const l = login(subject, { claims: { plan: 'pro' }, userAgent: 'Agent/1', ip: '10.0.0.1' });
    await store().createSession(l.input);
    return l;
  }

  /** Due: two minutes before the login's access token (an hour long) expires. */
  const DUE = T0 + HOUR - 2 * MINUTE;

  describe('renewAccess', () => {
    it('writes the new access row under the subject version and moves the session forward', async () => {
      const l = await loggedIn();
      const r = renewal(l.access, DUE, { userAgent: 'Agent/2', ip: '10.0.0.2' });
      const result = await store().renewAccess(r.request);

      const [built] = r.built;
      expect(result).toEqual({ outcome: 'renewed', token: { ...built, subjectVersion: 0 }, written: true });
      expect(r.given).toEqual({ presented: { ...l.access, subjectVersion: 0 }, session: l.session });
      expect(built).toMatchObject({ parentJti: l.access.jti, sessionId: l.session.sessionId, claims: { plan: 'pro' } });
      expect(await store().findToken(built.jti)).toEqual({ ...built, subjectVersion: 0 });
      expect(await store().findSession(l.session.sessionId)).toEqual({
        ...l.session,
        lastSeenAt: DUE,
        expiresAt: Math.max(l.session.expiresAt, built.expiresAt),
        userAgent: 'Agent/2',
        ip: '10.0.0.2',
      });
      // The presented token is left as it was: it runs out at its own exp.
      expect(await store().findToken(l.access.jti)).toEqual({ ...l.access, subjectVersion: 0 });
    });

    it("moves the session's expiry and last-seen time forward only", async () => {
      const l = await loggedIn();
      // A short new token, renewed at a time before the session was last seen.
      await store().touchSessions(new Map([[l.session.sessionId, DUE + MINUTE]]));
      const r = renewal(l.access, DUE, { accessTtl: 10 * MINUTE });
      expect(await store().renewAccess(r.request)).toMatchObject({ outcome: 'renewed', written: true });
      expect(await store().findSession(l.session.sessionId)).toMatchObject({
        lastSeenAt: DUE + MINUTE,
        expiresAt: l.session.expiresAt,
      });
    });

    it('answers a racer with the token already written, writing nothing', async () => {
      const l = await loggedIn();
      const first = await store().renewAccess(renewal(l.access, DUE).request);
      const again = renewal(l.access, DUE + 1000);
      const second = await store().renewAccess(again.request);

      expect(first.outcome).toBe('renewed');
      if (first.outcome !== 'renewed') return;
      expect(second).toEqual({ outcome: 'renewed', token: first.token, written: false });
      expect(again.built).toHaveLength(0);
    });

    it('answers an older token of the session with the newest one not due', async () => {
      const l = await loggedIn();
      const first = await store().renewAccess(renewal(l.access, DUE).request);
      if (first.outcome !== 'renewed') throw new Error(`renewal refused: ${first.outcome}`);
      // The renewed token is due itself an hour later: it gets a successor of its own.
      const later = DUE + HOUR;
      const second = await store().renewAccess(renewal(first.token, later).request);
      expect(second).toMatchObject({ outcome: 'renewed', written: true });
      if (second.outcome !== 'renewed') return;
      expect(second.token.parentJti).toBe(first.token.jti);
      // The first token comes back (still valid by its clock): it gets that same successor.
      expect(await store().renewAccess(renewal(first.token, later + 1000).request)).toEqual({
        outcome: 'renewed',
        token: second.token,
        written: false,
      });
    });

    it('writes a new token when the newest one was revoked', async () => {
      const l = await loggedIn();
      const first = await store().renewAccess(renewal(l.access, DUE).request);
      if (first.outcome !== 'renewed') throw new Error(`renewal refused: ${first.outcome}`);
      await store().revokeToken(first.token.jti, 'logout', DUE + 1);
      const second = await store().renewAccess(renewal(l.access, DUE + 2).request);
      expect(second).toMatchObject({ outcome: 'renewed', written: true });
      if (second.outcome === 'renewed') expect(second.token.jti).not.toBe(first.token.jti);
    });

    it('refuses, writing nothing, an unknown jti, a refresh token, a token of another session and a revoked token', async () => {
      const l = await loggedIn();
      const other = await loggedIn();
      const cases = [
        renewal({ jti: uid('unknown'), sessionId: l.session.sessionId }, DUE),
        renewal({ jti: l.refresh.jti, sessionId: l.session.sessionId }, DUE),
        renewal({ jti: other.access.jti, sessionId: l.session.sessionId }, DUE),
      ];
      for (const r of cases) {
        expect(await store().renewAccess(r.request)).toEqual({ outcome: 'refused' });
        expect(r.built).toHaveLength(0);
      }
      await store().revokeToken(l.access.jti, 'logout', DUE - 1);
      const revoked = renewal(l.access, DUE);
      expect(await store().renewAccess(revoked.request)).toEqual({ outcome: 'refused' });
      expect(revoked.built).toHaveLength(0);
      expect(await store().findSession(l.session.sessionId)).toEqual(l.session);
    });

    it('refuses a token of a revoked session and one of a subject that logged out everywhere', async () => {
      const a = await loggedIn();
      await store().revokeSession(a.session.sessionId, 'logout', DUE - 1);
      const b = await loggedIn();
      await store().revokeSubject(b.session.subject, 'logout_all', DUE - 1);
      for (const l of [a, b]) {
        const r = renewal(l.access, DUE);
        expect(await store().renewAccess(r.request)).toEqual({ outcome: 'refused' });
        expect(r.built).toHaveLength(0);
      }
    });

    it('refuses a token issued under an older subject version, even one the revocation left unrevoked', async () => {
      const l = await loggedIn();
      // Logged out everywhere after the access token expired (so its row is not revoked), with a clock that says it has not.
      await store().revokeSubject(l.session.subject, 'logout_all', l.access.expiresAt + MINUTE);
      expect(await store().findToken(l.access.jti)).toMatchObject({ revokedAt: null });
      expect(await store().renewAccess(renewal(l.access, DUE).request)).toEqual({ outcome: 'refused' });
    });

    it('refuses, writing nothing, when next gives null (nothing to gain at the session end)', async () => {
      const l = await loggedIn();
      const r = renewal(l.access, DUE, { gain: false });
      expect(await store().renewAccess(r.request)).toEqual({ outcome: 'refused' });
      expect(r.given).not.toBeNull();
      expect(await store().findSession(l.session.sessionId)).toEqual(l.session);
    });

    it('of concurrent renewals of one token, one writes; every call gets that token', async () => {
      const l = await loggedIn();
      const calls = Array.from({ length: concurrency }, (_, i) => renewal(l.access, DUE + i));
      const results = await atOnce(concurrency, (i) => store().renewAccess(calls[i].request));

      expect(results.filter((r) => r.outcome === 'renewed' && r.written)).toHaveLength(1);
      const jtis = new Set(results.map((r) => (r.outcome === 'renewed' ? r.token.jti : r.outcome)));
      expect(jtis.size).toBe(1);
      // What the losers built (if they built anything) was never written.
      const [winner] = [...jtis];
      for (const call of calls)
        for (const built of call.built) if (built.jti !== winner) expect(await store().findToken(built.jti)).toBeNull();
    });

    it('orders renewals against revoking the session and the subject: no live token is left in a revoked session', async () => {
      for (let round = 0; round < 10; round++) {
        const l = await loggedIn();
        const revoke =
          round % 2 === 0
            ? () => store().revokeSession(l.session.sessionId, 'logout', DUE)
            : () => store().revokeSubject(l.session.subject, 'logout_all', DUE);
        const calls = Array.from({ length: concurrency }, (_, i) => renewal(l.access, DUE + i));
        const [, ...results] = await Promise.all([revoke(), ...calls.map((call) => store().renewAccess(call.request))]);
        for (const result of results) {
          if (result.outcome === 'renewed')
            expect(await store().findToken(result.token.jti)).toMatchObject({ revokedAt: DUE });
        }
        for (const call of calls)
          for (const built of call.built) {
            const row = await store().findToken(built.jti);
            if (row !== null) expect(row).toMatchObject({ revokedAt: DUE });
          }
      }
    });
  });
}
