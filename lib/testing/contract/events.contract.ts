import type { RevocationEvent } from '../../interfaces/revocation-event.interface.js';
import type { ContractContext } from './context.js';
import { DAY, HOUR, MINUTE, T0, login, uid, type Login } from './fixtures.js';

/**
 * loadEvents, loadRevocations (whole and in pages), loadActiveAccessTokens (the
 * same), findActiveAccessToken.
 * Each case writes its events in a window of time of its own, later cases in
 * later windows, so `loadEvents(since)` sees nothing an earlier case left.
 */
export function eventCases({ it, describe, expect, store }: ContractContext): void {
  async function loggedIn(at = T0, subject = uid('evt')): Promise<Login> {
    const l = login(subject, { at });
    await store().createSession(l.input);
    return l;
  }

  const has = (rows: Array<[string, ...number[]]>, key: string) => rows.filter((row) => row[0] === key);

  describe('loadEvents', () => {
    it('returns every event a write handed out, with the same seq, in the order written; seqs increase', async () => {
      const w = T0 + 10 * DAY;
      const subject = uid('evt');
      const [a, b, c] = [await loggedIn(w, subject), await loggedIn(w, subject), await loggedIn(w, subject)];
      const written: RevocationEvent[] = [];
      const push = (event: RevocationEvent | null | undefined) => {
        if (event) written.push(event);
      };
      push((await store().revokeToken(a.access.jti, 'logout', w + 1))?.event);
      push((await store().revokeSession(a.session.sessionId, 'logout', w + 2))?.event);
      push(
        await store().revokePresented(
          { subject, sessionId: uid('sid'), jti: uid('jti'), issuedAt: w, expiresAt: w + HOUR },
          'logout',
          w + 3,
        ),
      );
      written.push(...(await store().revokeOtherSessions(subject, b.session.sessionId, 'password_change', w + 4)));
      const capped = await store().createSession(login(subject, { at: w + 5, maxSessions: 1 }).input);
      if (capped.created) written.push(...capped.evicted);
      written.push((await store().revokeSubject(subject, 'logout_all', w + 6)).event);

      expect(written.map((e) => e.kind)).toEqual(['token', 'session', 'session', 'session', 'session', 'subject']);
      expect(written.map((e) => e.key).slice(3, 5)).toEqual([c.session.sessionId, b.session.sessionId]);
      for (let i = 1; i < written.length; i++) expect(written[i].seq).toBeGreaterThan(written[i - 1].seq);
      expect(await store().loadEvents(w)).toEqual(written);
    });

    it('returns events after `since` (strictly), in sequence order even when their times are not', async () => {
      const w = T0 + 20 * DAY;
      const [x, y, z] = [await loggedIn(w), await loggedIn(w), await loggedIn(w)];
      const late = (await store().revokeToken(x.access.jti, 'logout', w + 30))?.event;
      const early = (await store().revokeToken(y.access.jti, 'logout', w + 10))?.event;
      const middle = (await store().revokeToken(z.access.jti, 'logout', w + 20))?.event;
      expect(await store().loadEvents(w)).toEqual([late, early, middle]);
      expect(await store().loadEvents(w + 10)).toEqual([late, middle]);
      expect(await store().loadEvents(w + 30)).toEqual([]);
    });
  });

  describe('loadRevocations', () => {
    it('tokens: every revoked access token unexpired at now, whatever `since`; no refresh token', async () => {
      const w = T0 + 30 * DAY;
      const [live, ended, refresh, untouched] = [
        await loggedIn(w),
        await loggedIn(w - 30 * MINUTE),
        await loggedIn(w),
        await loggedIn(w),
      ];
      for (const jti of [live.access.jti, ended.access.jti, refresh.refresh.jti])
        await store().revokeToken(jti, 'logout', w + 1);
      const now = ended.access.expiresAt; // expired exactly now

      const { tokens } = await store().loadRevocations(now, w + 2);
      expect(has(tokens, live.access.jti)).toEqual([[live.access.jti, live.access.expiresAt]]);
      for (const jti of [ended.access.jti, refresh.refresh.jti, untouched.access.jti])
        expect(has(tokens, jti)).toEqual([]);
      const earlier = (await store().loadRevocations(now - 1, w + 2)).tokens;
      expect(has(earlier, ended.access.jti)).toEqual([[ended.access.jti, ended.access.expiresAt]]);
    });

    it('sessions: revoked after `since`, with their revocation time', async () => {
      const w = T0 + 40 * DAY;
      const [before, after] = [await loggedIn(w), await loggedIn(w)];
      await store().revokeSession(before.session.sessionId, 'logout', w + 10);
      await store().revokeSession(after.session.sessionId, 'logout', w + 11);
      const { sessions } = await store().loadRevocations(w + 20, w + 10);
      expect(has(sessions, before.session.sessionId)).toEqual([]);
      expect(has(sessions, after.session.sessionId)).toEqual([[after.session.sessionId, w + 11]]);
    });

    it('subjects: revoked everywhere after `since`, once each, with the latest version and time', async () => {
      const w = T0 + 50 * DAY;
      const [once, twice, earlier] = [uid('s1'), uid('s2'), uid('s3')];
      await store().revokeSubject(earlier, 'logout_all', w + 5);
      await store().revokeSubject(once, 'logout_all', w + 11);
      await store().revokeSubject(twice, 'logout_all', w + 12);
      await store().revokeSubject(twice, 'logout_all', w + 13);
      const { subjects } = await store().loadRevocations(w + 20, w + 10);
      expect(has(subjects, earlier)).toEqual([]);
      expect(has(subjects, once)).toEqual([[once, 1, w + 11]]);
      expect(has(subjects, twice)).toEqual([[twice, 2, w + 13]]);
    });
  });

  describe('loadRevocationPages', () => {
    /** Every page, checked against the page size, and the rows of all of them. */
    async function pages<T>(load: AsyncIterable<T>, size: (page: T) => number, pageSize: number): Promise<T[]> {
      const all: T[] = [];
      for await (const page of load) {
        expect(size(page) <= pageSize).toBe(true);
        all.push(page);
      }
      return all;
    }
    const sorted = <R extends [string, ...number[]]>(rows: R[]) =>
      [...rows].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

    it('pages smaller than the rows, with rows tying on their time, hold every row of loadRevocations once', async () => {
      const w = T0 + 70 * DAY;
      // Tokens tying on expiresAt, sessions on revokedAt, subjects on revokedAt: more of each than a page holds.
      const subject = uid('evt');
      const logins = [];
      for (let i = 0; i < 5; i++) logins.push(await loggedIn(w, subject));
      for (const l of logins) await store().revokeToken(l.access.jti, 'logout', w + 1);
      const other = uid('evt');
      for (let i = 0; i < 5; i++) await loggedIn(w, other);
      await store().revokeSubject(other, 'logout_all', w + 2);
      for (let i = 0; i < 4; i++) await store().revokeSubject(uid('evt'), 'logout_all', w + 2);
      const now = w + 3;
      const since = w;

      const whole = await store().loadRevocations(now, since);
      expect(whole.tokens.length >= 5).toBe(true);
      expect(whole.sessions.length >= 5).toBe(true);
      expect(whole.subjects.length >= 5).toBe(true);
      const paged = await pages(
        store().loadRevocationPages(now, since, 2),
        (p) => p.tokens.length + p.sessions.length + p.subjects.length,
        2,
      );
      expect(sorted(paged.flatMap((p) => p.tokens))).toEqual(sorted(whole.tokens));
      expect(sorted(paged.flatMap((p) => p.sessions))).toEqual(sorted(whole.sessions));
      expect(sorted(paged.flatMap((p) => p.subjects))).toEqual(sorted(whole.subjects));
    });

    it('loadActiveAccessTokenPages: pages smaller than the rows, tying on expiresAt, hold every active token once', async () => {
      const w = T0 + 75 * DAY;
      const subject = uid('evt');
      for (let i = 0; i < 5; i++) await loggedIn(w, subject);
      const now = w + 1;
      const whole = await store().loadActiveAccessTokens(now);
      expect(whole.length >= 5).toBe(true);
      const paged = await pages(store().loadActiveAccessTokenPages(now, 2), (p) => p.length, 2);
      expect(sorted(paged.flat())).toEqual(sorted(whole));
    });
  });

  describe('allowlist look-ups', () => {
    it('loadActiveAccessTokens and findActiveAccessToken: unrevoked access tokens unexpired at now', async () => {
      const w = T0 + 60 * DAY;
      const [live, revoked, session, ended] = [
        await loggedIn(w),
        await loggedIn(w),
        await loggedIn(w),
        await loggedIn(w - 30 * MINUTE),
      ];
      await store().revokeToken(revoked.access.jti, 'logout', w + 1);
      await store().revokeSession(session.session.sessionId, 'logout', w + 1);
      const now = ended.access.expiresAt;

      const active = await store().loadActiveAccessTokens(now);
      expect(has(active, live.access.jti)).toEqual([[live.access.jti, live.access.expiresAt]]);
      for (const jti of [revoked.access.jti, session.access.jti, ended.access.jti, live.refresh.jti])
        expect(has(active, jti)).toEqual([]);

      expect(await store().findActiveAccessToken(live.access.jti, now)).toBe(live.access.expiresAt);
      for (const jti of [revoked.access.jti, session.access.jti, ended.access.jti, live.refresh.jti, uid('nojti')]) {
        expect(await store().findActiveAccessToken(jti, now)).toBeNull();
      }
    });
  });
}
