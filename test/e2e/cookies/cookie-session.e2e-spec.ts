import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import {
  ACCESS,
  cookieHeader,
  loginCookies,
  REFRESH,
  SAME_ORIGIN,
  setCookie,
  setCookiesOf,
  startCookieApp,
} from '../../support/cookie-app.js';
import { decodePart } from '../../support/forge.js';
import { tokensOf } from '../../support/guard-app.js';
import { bearer, expect401, INVALID, MISSING } from '../../support/http.js';
import { appForSuite } from '../../support/suite-app.js';
import { eachAdapter } from '../../support/test-app.js';
import { earlyInASecond, sleep } from '../../support/time.js';
import { backdateSpend } from '../../support/token-rows.js';

/** The clearing header of the access cookie, as the guard sends it with a 401. */
const CLEAR_ACCESS = `${ACCESS}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`;
const CLEAR_REFRESH = `${REFRESH}=; Max-Age=0; Path=/auth/refresh; HttpOnly; Secure; SameSite=Lax`;

/** A browser's session in cookie mode: the access cookie authenticates, refresh reads its cookie, logout and refusals clear. */
eachAdapter('cookie mode: a session in cookies', (adapter) => {
  describe('with the defaults', () => {
    const running = appForSuite(() => startCookieApp(adapter));

    it('the access cookie authenticates a guarded route', async () => {
      const { access, sessionId } = await loginCookies(running, 'ann');
      const res = await running.http
        .get('/me')
        .set(cookieHeader({ [ACCESS]: access }))
        .expect(200);
      expect(res.body).toMatchObject({ sub: 'ann', sid: sessionId });
      expect(setCookiesOf(res)).toEqual([]);
    });

    it('no cookie and no header: 401 Missing, and nothing to clear', async () => {
      const res = await running.http.get('/me');
      expect401(res, MISSING);
      expect(setCookiesOf(res)).toEqual([]);
    });

    it('the Bearer header keeps working beside it, and comes first', async () => {
      const { access } = await loginCookies(running, 'ann');
      const bob = await tokensOf(running).issue('bob');
      await running.http.get('/me').set(bearer(bob.accessToken)).expect(200);
      const both = await running.http
        .get('/me')
        .set(bearer(bob.accessToken))
        .set(cookieHeader({ [ACCESS]: access }))
        .expect(200);
      expect(both.body.sub).toBe('bob');
    });

    it('a refused Bearer token is a 401 that leaves the cookies alone, even a good cookie beside it', async () => {
      const { access } = await loginCookies(running, 'ann');
      const res = await running.http
        .get('/me')
        .set(bearer('not.a.token'))
        .set(cookieHeader({ [ACCESS]: access }));
      expect401(res, INVALID);
      expect(setCookiesOf(res)).toEqual([]);
    });

    it('a revoked token in the access cookie: 401, and the access cookie (only it) cleared', async () => {
      const { access, sessionId } = await loginCookies(running, 'ann');
      await tokensOf(running).revokeSession(sessionId);
      const res = await running.http.get('/me').set(cookieHeader({ [ACCESS]: access }));
      expect401(res, INVALID);
      expect(setCookiesOf(res).map((c) => c.raw)).toEqual([CLEAR_ACCESS]);
    });

    it('a garbage access cookie: 401, and cleared', async () => {
      const res = await running.http.get('/me').set(cookieHeader({ [ACCESS]: 'garbage' }));
      expect401(res, INVALID);
      expect(setCookiesOf(res).map((c) => c.raw)).toEqual([CLEAR_ACCESS]);
    });

    it('refresh reads the refresh cookie: new cookies, the new access cookie works, the old refresh token is spent', async () => {
      const first = await loginCookies(running, 'ann');
      const res = await running.http
        .post('/auth/refresh')
        .set(SAME_ORIGIN)
        .set(cookieHeader({ [ACCESS]: first.access, [REFRESH]: first.refresh }))
        .expect(200);
      const access = setCookie(res, ACCESS).value;
      const refresh = setCookie(res, REFRESH).value;
      expect(res.body.sessionId).toBe(first.sessionId);
      expect(access).not.toBe(first.access);
      expect(refresh).not.toBe(first.refresh);
      const me = await running.http
        .get('/me')
        .set(cookieHeader({ [ACCESS]: access }))
        .expect(200);
      expect(me.body.sid).toBe(first.sessionId);
    });

    it('two refreshes with one cookie (two tabs): both set the same refresh cookie and an access token of the same jti', async () => {
      const first = await loginCookies(running, 'ann');
      const send = () =>
        running.http
          .post('/auth/refresh')
          .set(SAME_ORIGIN)
          .set(cookieHeader({ [REFRESH]: first.refresh }))
          .expect(200);
      const [a, b] = await Promise.all([send(), send()]);
      expect(setCookie(b, REFRESH).value).toBe(setCookie(a, REFRESH).value);
      expect(decodePart(setCookie(b, ACCESS).value, 1).jti).toBe(decodePart(setCookie(a, ACCESS).value, 1).jti);
      await running.http
        .get('/me')
        .set(cookieHeader({ [ACCESS]: setCookie(a, ACCESS).value }))
        .expect(200);
    });

    it('a refresh that fails (no cookie, an unknown one, a reused one) is a 401 that clears nothing', async () => {
      const none = await running.http.post('/auth/refresh').set(SAME_ORIGIN);
      expect(none.status).toBe(401);
      expect(setCookiesOf(none)).toEqual([]);
      const unknown = await running.http
        .post('/auth/refresh')
        .set(SAME_ORIGIN)
        .set(cookieHeader({ [REFRESH]: 'x'.repeat(43) }));
      expect(unknown.status).toBe(401);
      expect(setCookiesOf(unknown)).toEqual([]);
      // Spent before the grace window: reuse, the session dies; still nothing cleared (a racing winner's cookies may be newer).
      const first = await loginCookies(running, 'ann');
      const second = await running.http
        .post('/auth/refresh')
        .set(SAME_ORIGIN)
        .set(cookieHeader({ [REFRESH]: first.refresh }))
        .expect(200);
      await running.http
        .post('/auth/refresh')
        .set(SAME_ORIGIN)
        .set(cookieHeader({ [REFRESH]: setCookie(second, REFRESH).value }))
        .expect(200);
      await backdateSpend(running.app, first.refresh, 6_000);
      const reused = await running.http
        .post('/auth/refresh')
        .set(SAME_ORIGIN)
        .set(cookieHeader({ [REFRESH]: first.refresh }));
      expect(reused.status).toBe(401);
      expect(setCookiesOf(reused)).toEqual([]);
    });

    it('logout clears both cookies, and the access cookie is refused afterwards', async () => {
      const { access } = await loginCookies(running, 'ann');
      const res = await running.http
        .post('/auth/logout')
        .set(SAME_ORIGIN)
        .set(cookieHeader({ [ACCESS]: access }))
        .expect(204);
      expect(setCookiesOf(res).map((c) => c.raw)).toEqual(expect.arrayContaining([CLEAR_ACCESS, CLEAR_REFRESH]));
      expect401(await running.http.get('/me').set(cookieHeader({ [ACCESS]: access })));
    });

    it('logout-all clears both cookies, and every session of the user is refused', async () => {
      const one = await loginCookies(running, 'carl');
      const two = await loginCookies(running, 'carl');
      const res = await running.http
        .post('/auth/logout-all')
        .set(SAME_ORIGIN)
        .set(cookieHeader({ [ACCESS]: one.access }))
        .expect(204);
      expect(setCookiesOf(res).map((c) => c.raw)).toEqual([CLEAR_ACCESS, CLEAR_REFRESH]);
      expect401(await running.http.get('/me').set(cookieHeader({ [ACCESS]: two.access })));
    });

    it('a logout refused (no token) clears nothing', async () => {
      const res = await running.http.post('/auth/logout').set(SAME_ORIGIN);
      expect401(res, MISSING);
      expect(setCookiesOf(res)).toEqual([]);
    });
  });

  describe('an expired token in the access cookie', () => {
    const running = appForSuite(() => startCookieApp(adapter, { accessTokenTtl: 1, clockTolerance: 0 }));

    it('401, and the access cookie cleared', async () => {
      await earlyInASecond();
      const { access } = await loginCookies(running, 'ann');
      await running.http
        .get('/me')
        .set(cookieHeader({ [ACCESS]: access }))
        .expect(200);
      await sleep(2100);
      const res = await running.http.get('/me').set(cookieHeader({ [ACCESS]: access }));
      expect401(res, INVALID);
      expect(setCookiesOf(res).map((c) => c.raw)).toEqual([CLEAR_ACCESS]);
    });
  });
});
