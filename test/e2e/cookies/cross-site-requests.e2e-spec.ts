import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Controller, HttpCode, Post } from '@nestjs/common';
import { AllowCrossSite, Public } from 'nestjs-jwt-revocation';
import {
  ACCESS,
  CookieAuthController,
  cookieHeader,
  CookieMeController,
  HOST,
  loginCookies,
  OWN_ORIGIN,
  REFRESH,
  SAME_ORIGIN,
  setCookiesOf,
  startCookieApp,
} from '../../support/cookie-app.js';
import { tokensOf } from '../../support/guard-app.js';
import { bearer } from '../../support/http.js';
import { appForSuite } from '../../support/suite-app.js';
import { eachAdapter } from '../../support/test-app.js';

/** The only body a refused cross-site request gets. */
const REFUSED = { statusCode: 403, message: 'Cross-site request refused', error: 'Forbidden' };
const EVIL = 'https://evil.example.net';
const TRUSTED = 'https://admin.example.com';

type Headers = Record<string, string>;

/** Where an identity provider posts back (OAuth form_post): from another site, by design. */
@Controller('callback')
class CallbackController {
  @Public()
  @AllowCrossSite()
  @Post()
  @HttpCode(200)
  callback() {
    return { ok: true };
  }
}

/** Cookie mode's CSRF check, under a global RevocableJwtGuard: unsafe requests another site's page may have sent get 403. */
eachAdapter('cookie mode: cross-site requests', (adapter) => {
  const running = appForSuite(() =>
    startCookieApp(adapter, { cookies: { refreshPath: '/auth/refresh', trustedOrigins: [TRUSTED] } }, [
      CookieAuthController,
      CookieMeController,
      CallbackController,
    ]),
  );

  const withCookies = async (subject = 'ann') => {
    const { access, refresh } = await loginCookies(running, subject);
    return cookieHeader({ [ACCESS]: access, [REFRESH]: refresh });
  };

  it.each<[string, Headers]>([
    ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site', Origin: EVIL }],
    ['Sec-Fetch-Site: cross-site and no Origin', { 'Sec-Fetch-Site': 'cross-site' }],
    [
      'Sec-Fetch-Site: same-site (a sibling subdomain that is not trusted)',
      { 'Sec-Fetch-Site': 'same-site', Origin: 'https://blog.example.com' },
    ],
    ['Sec-Fetch-Site: same-site claiming our own Origin', { 'Sec-Fetch-Site': 'same-site', Origin: OWN_ORIGIN }],
    ['an Origin of another site, no Fetch Metadata', { Origin: EVIL }],
    ['no Origin and no Fetch Metadata', {}],
    ['Origin: null, no Fetch Metadata', { Origin: 'null' }],
    ['our host under another scheme (http://), no Fetch Metadata', { Origin: `http://${HOST}` }],
    ['our origin with a path, no Fetch Metadata', { Origin: `${OWN_ORIGIN}/` }],
    ['two Origin values, no Fetch Metadata', { Origin: `${OWN_ORIGIN}, ${EVIL}` }],
  ])('a POST with a valid cookie and %s: 403', async (_name, headers) => {
    const cookies = await withCookies();
    const res = await running.http.post('/me/notes').set('Host', HOST).set(cookies).set(headers);
    expect(res.status).toBe(403);
    expect(res.body).toEqual(REFUSED);
  });

  it.each(['put', 'patch', 'delete'] as const)(
    '%s is an unsafe method too: 403 cross-site, 200 same-origin',
    async (method) => {
      const cookies = await withCookies();
      const cross = await running.http[method]('/me/notes').set('Host', HOST).set(cookies).set({ Origin: EVIL });
      expect(cross.status).toBe(403);
      expect(cross.body).toEqual(REFUSED);
      await running.http[method]('/me/notes').set(SAME_ORIGIN).set(cookies).expect(200);
    },
  );

  it.each<[string, Headers]>([
    ['Sec-Fetch-Site: same-origin', { 'Sec-Fetch-Site': 'same-origin', Origin: OWN_ORIGIN }],
    ['Sec-Fetch-Site: none (the user’s own navigation)', { 'Sec-Fetch-Site': 'none' }],
    ['our Origin, no Fetch Metadata (an older browser)', { Origin: OWN_ORIGIN }],
    ['our Origin with the default port spelled out in Host', { Origin: OWN_ORIGIN, Host: `${HOST}:443` }],
  ])('a same-origin POST with the cookie is accepted: %s', async (_name, headers) => {
    const cookies = await withCookies('ann');
    const res = await running.http.post('/me/notes').set('Host', HOST).set(cookies).set(headers).expect(201);
    expect(res.body).toEqual({ sub: 'ann' });
  });

  it.each<[string, Headers]>([
    ['Sec-Fetch-Site: same-site', { 'Sec-Fetch-Site': 'same-site', Origin: TRUSTED }],
    ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site', Origin: TRUSTED }],
    ['no Fetch Metadata', { Origin: TRUSTED }],
  ])('a POST from a trusted origin is accepted: %s', async (_name, headers) => {
    const cookies = await withCookies('ann');
    await running.http.post('/me/notes').set('Host', HOST).set(cookies).set(headers).expect(201);
  });

  it('a cross-site GET with the cookie is not blocked: safe methods change nothing', async () => {
    const cookies = await withCookies('ann');
    const res = await running.http
      .get('/me')
      .set('Host', HOST)
      .set(cookies)
      .set({ 'Sec-Fetch-Site': 'cross-site', Origin: EVIL })
      .expect(200);
    expect(res.body.sub).toBe('ann');
  });

  it('a cross-site POST authenticated by a Bearer header is accepted (by that header, even with a cookie beside it)', async () => {
    const bob = await tokensOf(running).issue('bob');
    const cookies = await withCookies('ann');
    const alone = await running.http
      .post('/me/notes')
      .set(bearer(bob.accessToken))
      .set({ Host: HOST, 'Sec-Fetch-Site': 'cross-site', Origin: EVIL })
      .expect(201);
    expect(alone.body).toEqual({ sub: 'bob' });
    const beside = await running.http
      .post('/me/notes')
      .set(bearer(bob.accessToken))
      .set(cookies)
      .set({ Host: HOST, Origin: EVIL })
      .expect(201);
    expect(beside.body).toEqual({ sub: 'bob' });
  });

  it('another Authorization scheme (Basic, which browsers send by themselves) is no exemption', async () => {
    const cookies = await withCookies();
    const res = await running.http
      .post('/me/notes')
      .set('Authorization', 'Basic dXNlcjpwdw==')
      .set(cookies)
      .set({ Host: HOST, Origin: EVIL });
    expect(res.status).toBe(403);
  });

  it('behind a proxy, X-Forwarded-Host is not trusted: our public origin in Origin, another Host, is 403', async () => {
    const cookies = await withCookies();
    const res = await running.http
      .post('/me/notes')
      .set(cookies)
      .set({ Host: 'backend:3000', 'X-Forwarded-Host': HOST, 'X-Forwarded-Proto': 'https', Origin: OWN_ORIGIN });
    expect(res.status).toBe(403);
  });

  it('@AllowCrossSite(): a cross-site POST without our cookies passes; one carrying a cookie of ours is still 403', async () => {
    const crossSite = { Host: HOST, 'Sec-Fetch-Site': 'cross-site', Origin: 'https://idp.example.org' };
    await running.http.post('/callback').set(crossSite).set('Cookie', 'theme=dark').expect(200);
    const cookies = await withCookies();
    const res = await running.http.post('/callback').set(crossSite).set(cookies);
    expect(res.status).toBe(403);
    expect(res.body).toEqual(REFUSED);
  });

  describe('the refresh endpoint (public, reads the refresh cookie)', () => {
    it('a cross-site refresh with the cookie is 403 and sets no cookie; the same cookie same-origin refreshes', async () => {
      const cookies = await withCookies();
      for (const headers of [{ 'Sec-Fetch-Site': 'cross-site', Origin: EVIL }, { Origin: EVIL }, {}]) {
        const res = await running.http.post('/auth/refresh').set('Host', HOST).set(cookies).set(headers);
        expect(res.status).toBe(403);
        expect(res.body).toEqual(REFUSED);
        expect(setCookiesOf(res)).toEqual([]);
      }
      await running.http.post('/auth/refresh').set(SAME_ORIGIN).set(cookies).expect(200);
    });
  });

  describe('login (public, no cookie needed: login forgery)', () => {
    it.each<[string, Headers]>([
      ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site', Origin: EVIL }],
      ['an Origin of another site', { Origin: EVIL }],
      ['Origin: null', { Origin: 'null' }],
    ])('a cross-site login without any cookie is 403 and sets no cookie: %s', async (_name, headers) => {
      const res = await running.http.post('/auth/login').set('Host', HOST).set(headers);
      expect(res.status).toBe(403);
      expect(res.body).toEqual(REFUSED);
      expect(setCookiesOf(res)).toEqual([]);
    });

    it('a login with neither Origin nor Fetch Metadata nor a cookie of ours (a native app, a server) is accepted', async () => {
      const res = await running.http.post('/auth/login').set('Host', HOST).expect(200);
      expect(setCookiesOf(res).map((c) => c.name)).toEqual([ACCESS, REFRESH]);
    });

    it('the same with a cookie of ours (a browser that sends neither header) is 403', async () => {
      const cookies = await withCookies();
      const res = await running.http.post('/auth/login').set('Host', HOST).set(cookies);
      expect(res.status).toBe(403);
    });
  });
});
