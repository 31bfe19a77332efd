import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import {
  ACCESS,
  loginCookies,
  REFRESH,
  SAME_ORIGIN,
  setCookie,
  setCookiesOf,
  startCookieApp,
} from '../../support/cookie-app.js';
import { testLogs } from '../../support/logs.js';
import { appForSuite } from '../../support/suite-app.js';
import { eachAdapter } from '../../support/test-app.js';

/** What `SessionCookies.set()` writes: every attribute, exactly, for each way of configuring it. */
eachAdapter('cookie mode: the cookies and their attributes', (adapter) => {
  describe('defaults: Secure, SameSite=Lax, no Domain', () => {
    const running = appForSuite(() => startCookieApp(adapter, { accessTokenTtl: 600, refreshTokenTtl: 3600 }));

    it('login sets __Host-access-token (Path=/) and __Secure-refresh-token (Path=/auth/refresh), HttpOnly, Secure, SameSite=Lax, Max-Age from the lifetimes', async () => {
      const res = await running.http.post('/auth/login').set(SAME_ORIGIN).expect(200);
      const { expiresIn, refreshExpiresIn } = res.body as { expiresIn: number; refreshExpiresIn: number };
      expect(expiresIn).toBe(600);
      expect(refreshExpiresIn).toBeGreaterThanOrEqual(3599);
      const access = setCookie(res, ACCESS);
      const refresh = setCookie(res, REFRESH);
      expect(access.attributes).toBe('Max-Age=600; Path=/; HttpOnly; Secure; SameSite=Lax');
      expect(refresh.attributes).toBe(
        `Max-Age=${refreshExpiresIn}; Path=/auth/refresh; HttpOnly; Secure; SameSite=Lax`,
      );
      expect(access.value.split('.')).toHaveLength(3);
      expect(refresh.value.length).toBeGreaterThan(20);
      expect(setCookiesOf(res)).toHaveLength(2);
    });

    it('the tokens stay out of the body: the handler returns what it chooses, the cookies carry the tokens', async () => {
      const res = await running.http.post('/auth/login').set(SAME_ORIGIN).expect(200);
      const body = JSON.stringify(res.body);
      expect(body).not.toContain(setCookie(res, ACCESS).value);
      expect(body).not.toContain(setCookie(res, REFRESH).value);
    });

    it("the app's own Set-Cookie headers, set before and after the module's, are all kept", async () => {
      const res = await running.http.post('/auth/login-with-theme').set(SAME_ORIGIN).expect(200);
      expect(setCookiesOf(res).map((c) => c.name)).toEqual(['theme', ACCESS, REFRESH, 'lang']);
      expect(setCookie(res, 'theme').raw).toBe('theme=dark; Path=/');
      expect(setCookie(res, 'lang').raw).toBe('lang=en; Path=/');
    });

    it('logout: both cookies cleared with Max-Age=0 and the Path and flags they were set with; the handler’s own cookie kept', async () => {
      const { access } = await loginCookies(running);
      const res = await running.http
        .post('/auth/logout')
        .set(SAME_ORIGIN)
        .set('Cookie', `${ACCESS}=${access}`)
        .expect(204);
      expect(setCookiesOf(res).map((c) => c.raw)).toEqual([
        'goodbye=1; Path=/',
        `${ACCESS}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`,
        `${REFRESH}=; Max-Age=0; Path=/auth/refresh; HttpOnly; Secure; SameSite=Lax`,
      ]);
    });
  });

  describe('sameSite strict, a Domain: the access cookie takes __Secure- (__Host- forbids a Domain)', () => {
    const running = appForSuite(() =>
      startCookieApp(adapter, {
        cookies: { refreshPath: '/auth/refresh', sameSite: 'strict', domain: 'example.com' },
      }),
    );

    it('both cookies carry Domain=example.com and SameSite=Strict', async () => {
      const res = await running.http.post('/auth/login').set(SAME_ORIGIN).expect(200);
      const access = setCookie(res, '__Secure-access-token');
      const refresh = setCookie(res, REFRESH);
      expect(access.attributes).toBe('Max-Age=900; Domain=example.com; Path=/; HttpOnly; Secure; SameSite=Strict');
      expect(refresh.attributes).toMatch(
        /^Max-Age=\d+; Domain=example\.com; Path=\/auth\/refresh; HttpOnly; Secure; SameSite=Strict$/,
      );
    });
  });

  describe('secure: false (http://localhost development): no Secure, no prefix', () => {
    testLogs.expect(/cookies\.secure is false/);
    const running = appForSuite(() =>
      startCookieApp(adapter, { cookies: { refreshPath: '/auth/refresh', secure: false } }),
    );

    it('access-token and refresh-token, without Secure; the access cookie authenticates', async () => {
      const res = await running.http
        .post('/auth/login')
        .set({ Host: 'localhost:3000', Origin: 'http://localhost:3000' })
        .expect(200);
      const access = setCookie(res, 'access-token');
      expect(access.attributes).toBe('Max-Age=900; Path=/; HttpOnly; SameSite=Lax');
      expect(setCookie(res, 'refresh-token').attributes).toMatch(
        /^Max-Age=\d+; Path=\/auth\/refresh; HttpOnly; SameSite=Lax$/,
      );
      await running.http.get('/me').set('Cookie', `access-token=${access.value}`).expect(200);
    });

    it('the app warns at boot that the cookies travel over plain HTTP', () => {
      expect(testLogs.take(/cookies\.secure is false/).map((line) => line.level)).toEqual(['warn']);
    });
  });

  describe('names of the app’s choosing', () => {
    const running = appForSuite(() =>
      startCookieApp(adapter, {
        cookies: { refreshPath: '/auth/refresh', accessCookieName: '__Host-at', refreshCookieName: 'rt' },
      }),
    );

    it('are used as given, with the same attributes', async () => {
      const res = await running.http.post('/auth/login').set(SAME_ORIGIN).expect(200);
      expect(setCookie(res, '__Host-at').attributes).toBe('Max-Age=900; Path=/; HttpOnly; Secure; SameSite=Lax');
      expect(setCookie(res, 'rt').attributes).toMatch(
        /^Max-Age=\d+; Path=\/auth\/refresh; HttpOnly; Secure; SameSite=Lax$/,
      );
    });
  });
});
