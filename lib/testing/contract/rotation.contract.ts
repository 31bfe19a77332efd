import type { ContractContext } from './context.js';
import { DAY, HOUR, MINUTE, T0, atOnce, byJti, hashOf, login, rotation, uid, type Login } from './fixtures.js';

/** rotate and findRefreshToken. */
export function rotationCases({ it, describe, expect, store, concurrency }: ContractContext): void {
  async function loggedIn(options: Parameters<typeof login>[1] = {}): Promise<Login> {
    const l = login(uid('rot'), options);
    await store().createSession(l.input);
    return l;
  }

  /** Whether the refresh row is untouched: neither spent nor revoked. */
  async function unspent(l: Login) {
    expect(await store().findToken(l.refresh.jti)).toMatchObject({ spentAt: null, revokedAt: null });
  }

  describe('rotate', () => {
    it('rotates: spends the token, writes the new pair under the subject version, and updates the session', async () => {
      const l = await loggedIn({ claims: { plan: 'pro' } });
      const now = T0 + 10 * MINUTE;
      const r = rotation(l.hash, now, { userAgent: 'Agent/2', ip: '10.0.0.2', refreshTtl: 2 * DAY });
      expect(await store().rotate(r.request)).toEqual({ outcome: 'rotated', subjectVersion: 0 });

      expect(r.given).toEqual({ presented: { ...l.refresh, subjectVersion: 0 }, session: l.session });
      const [access, refresh] = r.built[r.built.length - 1];
      expect(await store().findToken(l.refresh.jti)).toEqual({ ...l.refresh, subjectVersion: 0, spentAt: now });
      expect(await store().findToken(access.jti)).toEqual({ ...access, subjectVersion: 0 });
      expect(await store().findToken(refresh.jti)).toEqual({ ...refresh, subjectVersion: 0 });
      expect(await store().findRefreshToken(refresh.tokenHash as string)).toEqual({ ...refresh, subjectVersion: 0 });
      expect(await store().findSession(l.session.sessionId)).toEqual({
        ...l.session,
        lastSeenAt: now,
        expiresAt: Math.max(access.expiresAt, refresh.expiresAt),
        userAgent: 'Agent/2',
        ip: '10.0.0.2',
      });
      // The access token of the login is not touched by a refresh.
      expect(await store().findToken(l.access.jti)).toEqual({ ...l.access, subjectVersion: 0 });
    });

    it('answers spent for a spent token, with the token, its successors and the session', async () => {
      const l = await loggedIn();
      const r = rotation(l.hash, T0 + MINUTE);
      await store().rotate(r.request);
      const [access, refresh] = r.built[r.built.length - 1];

      const again = await store().rotate(rotation(l.hash, T0 + 2 * MINUTE).request);
      expect(again.outcome).toBe('spent');
      if (again.outcome !== 'spent') return;
      expect(again.presented).toEqual(await store().findToken(l.refresh.jti));
      expect(byJti(again.successors)).toEqual(byJti([access, refresh].map((t) => ({ ...t, subjectVersion: 0 }))));
      expect(again.session).toEqual(await store().findSession(l.session.sessionId));
    });

    it('answers spent before revoked or expired: a replayed stolen token is evidence', async () => {
      const l = await loggedIn();
      await store().rotate(rotation(l.hash, T0 + MINUTE).request);
      await store().revokeSession(l.session.sessionId, 'logout', T0 + 2 * MINUTE);
      expect(await store().rotate(rotation(l.hash, l.refresh.expiresAt + HOUR).request)).toMatchObject({
        outcome: 'spent',
      });
    });

    it('answers invalid for a hash it does not know', async () => {
      expect(await store().rotate(rotation(hashOf(uid('unknown')), T0).request)).toEqual({ outcome: 'invalid' });
    });

    it('answers invalid for a revoked token and for a token of a revoked session, and spends nothing', async () => {
      const a = await loggedIn();
      await store().revokeToken(a.refresh.jti, 'logout', T0 + 1);
      expect(await store().rotate(rotation(a.hash, T0 + 2).request)).toEqual({ outcome: 'invalid' });
      expect(await store().findToken(a.refresh.jti)).toMatchObject({ spentAt: null });

      const b = await loggedIn();
      await store().revokeSession(b.session.sessionId, 'logout', T0 + 1);
      expect(await store().rotate(rotation(b.hash, T0 + 2).request)).toEqual({ outcome: 'invalid' });
      expect(await store().findToken(b.refresh.jti)).toMatchObject({ spentAt: null });
    });

    it('answers invalid for a token expired at or before now, and spends nothing', async () => {
      const l = await loggedIn();
      expect(await store().rotate(rotation(l.hash, l.refresh.expiresAt).request)).toEqual({ outcome: 'invalid' });
      await unspent(l);
      expect(await store().rotate(rotation(l.hash, l.refresh.expiresAt - 1).request)).toMatchObject({
        outcome: 'rotated',
      });
    });

    it('answers invalid for a session created at or before createdAfter, and writes nothing', async () => {
      const l = await loggedIn();
      const now = T0 + HOUR;
      expect(await store().rotate(rotation(l.hash, now, { createdAfter: l.session.createdAt }).request)).toEqual({
        outcome: 'invalid',
      });
      await unspent(l);
      expect(await store().findSession(l.session.sessionId)).toEqual(l.session);
      expect(
        await store().rotate(rotation(l.hash, now, { createdAfter: l.session.createdAt - 1 }).request),
      ).toMatchObject({ outcome: 'rotated' });
    });

    it('answers invalid for a session last seen at or before seenAfter, and writes nothing', async () => {
      const l = await loggedIn();
      const now = T0 + HOUR;
      const seenAfter = T0 + 30 * MINUTE;
      expect(await store().rotate(rotation(l.hash, now, { seenAfter }).request)).toEqual({ outcome: 'invalid' });
      await unspent(l);
      expect(await store().findSession(l.session.sessionId)).toEqual(l.session);
      await store().touchSessions(new Map([[l.session.sessionId, seenAfter + 1]]));
      expect(await store().rotate(rotation(l.hash, now, { seenAfter }).request)).toMatchObject({ outcome: 'rotated' });
    });

    it('answers invalid for a token issued under an older subject version, even one the revocation left unrevoked', async () => {
      const l = await loggedIn();
      // The subject logs out everywhere after this refresh token expired (so its row is not revoked) ...
      const { version } = await store().revokeSubject(l.session.subject, 'logout_all', l.refresh.expiresAt + HOUR);
      // ... and the token comes back with a clock that says it has not.
      expect(await store().rotate(rotation(l.hash, T0 + HOUR).request)).toEqual({ outcome: 'invalid' });

      const fresh = login(l.session.subject, { at: T0 + 2 * HOUR });
      await store().createSession(fresh.input);
      const r = rotation(fresh.hash, T0 + 3 * HOUR);
      expect(await store().rotate(r.request)).toEqual({ outcome: 'rotated', subjectVersion: version });
      expect(await store().findToken(r.built[r.built.length - 1][1].jti)).toMatchObject({ subjectVersion: version });
    });

    it(`of concurrent rotations of one token, exactly one rotates; the others see it spent, with the winner's pair`, async () => {
      const l = await loggedIn();
      const calls = Array.from({ length: concurrency }, (_, i) => rotation(l.hash, T0 + MINUTE + i));
      const results = await atOnce(concurrency, (i) => store().rotate(calls[i].request));

      const winners = results.flatMap((result, i) => (result.outcome === 'rotated' ? [calls[i]] : []));
      expect(winners).toHaveLength(1);
      expect(results.filter((result) => result.outcome === 'spent')).toHaveLength(concurrency - 1);
      const pair = winners[0].built[winners[0].built.length - 1];
      for (const result of results) {
        if (result.outcome === 'spent')
          expect(byJti(result.successors).map((t) => t.jti)).toEqual(byJti(pair).map((t) => t.jti));
      }
      // What the losers built (if they built anything) was never written.
      for (const call of calls) {
        for (const built of call.built) if (built !== pair) expect(await store().findToken(built[0].jti)).toBeNull();
      }
    });
  });

  describe('findRefreshToken', () => {
    it('finds a refresh row by its hash, spent or not; null for a hash it does not know', async () => {
      const l = await loggedIn();
      expect(await store().findRefreshToken(l.hash)).toEqual({ ...l.refresh, subjectVersion: 0 });
      await store().rotate(rotation(l.hash, T0 + MINUTE).request);
      expect(await store().findRefreshToken(l.hash)).toMatchObject({ jti: l.refresh.jti, spentAt: T0 + MINUTE });
      expect(await store().findRefreshToken(hashOf(uid('unknown')))).toBeNull();
    });
  });
}
