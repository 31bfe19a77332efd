import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { CsrfGuard, RevocableJwtGuard, SessionCookies, TokenLogService } from 'nestjs-jwt-revocation';
import { ACCESS, COOKIE_OPTIONS, cookieHeader, HOST, SAME_ORIGIN, setCookie } from '../../support/cookie-app.js';
import { startGuardApp, tokensOf } from '../../support/guard-app.js';
import { bearer } from '../../support/http.js';
import { TEST_SECRET } from '../../support/keys.js';
import { testLogs } from '../../support/logs.js';
import { appForSuite } from '../../support/suite-app.js';
import { eachAdapter } from '../../support/test-app.js';

const REFUSED = { statusCode: 403, message: 'Cross-site request refused', error: 'Forbidden' };
const CROSS_SITE = { Host: HOST, 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example.net' };

/** An app that guards per route (no APP_GUARD): CsrfGuard on the public login, the guard or passport on the rest. */
@Controller()
class PerRouteController {
  constructor(
    private readonly tokens: TokenLogService,
    private readonly cookies: SessionCookies,
  ) {}

  @Post('login')
  @UseGuards(CsrfGuard)
  @HttpCode(200)
  async login(@Res({ passthrough: true }) response: object) {
    this.cookies.set(response, await this.tokens.issue('per-route'));
    return {};
  }

  @Post('guarded')
  @UseGuards(RevocableJwtGuard)
  @HttpCode(200)
  guarded() {
    return { ok: true };
  }

  @Post('passport')
  @UseGuards(AuthGuard('jwt-revocation'))
  @HttpCode(200)
  passport(@Req() request: { user: { sub: string } }) {
    return { sub: request.user.sub };
  }
}

eachAdapter('cookie mode without a global guard', (adapter) => {
  describe('cookie mode on', () => {
    const running = appForSuite(() =>
      startGuardApp(
        { signing: { secret: TEST_SECRET }, cookies: COOKIE_OPTIONS },
        { adapter, controllers: [PerRouteController] },
      ),
    );
    const login = async () => {
      const res = await running.http.post('/login').set(SAME_ORIGIN).expect(200);
      return cookieHeader({ [ACCESS]: setCookie(res, ACCESS).value });
    };

    it('@UseGuards(CsrfGuard) on a public login: 403 cross-site, 200 same-origin', async () => {
      const res = await running.http.post('/login').set(CROSS_SITE);
      expect(res.status).toBe(403);
      expect(res.body).toEqual(REFUSED);
      await login();
    });

    it('@UseGuards(RevocableJwtGuard): a cross-site POST with the cookie is 403, same-origin 200', async () => {
      const cookies = await login();
      const res = await running.http.post('/guarded').set(cookies).set(CROSS_SITE);
      expect(res.status).toBe(403);
      await running.http.post('/guarded').set(cookies).set(SAME_ORIGIN).expect(200);
    });

    it("AuthGuard('jwt-revocation'): a cross-site POST authenticated by the cookie is 403; by a Bearer header, 200", async () => {
      const cookies = await login();
      const res = await running.http.post('/passport').set(cookies).set(CROSS_SITE);
      expect(res.status).toBe(403);
      expect(res.body).toEqual(REFUSED);
      await running.http.post('/passport').set(cookies).set(SAME_ORIGIN).expect(200);
      const bob = await tokensOf(running).issue('bob');
      const byHeader = await running.http.post('/passport').set(bearer(bob.accessToken)).set(CROSS_SITE).expect(200);
      expect(byHeader.body).toEqual({ sub: 'bob' });
    });
  });

  describe('cookie mode off', () => {
    const running = appForSuite(() =>
      startGuardApp({ signing: { secret: TEST_SECRET } }, { adapter, controllers: [PerRouteController] }),
    );

    it('CsrfGuard lets every request through, and SessionCookies.set() refuses to run (500), never answering without cookies', async () => {
      testLogs.expect(/cookie mode is off/);
      const res = await running.http.post('/login').set(CROSS_SITE);
      expect(res.status).toBe(500);
    });

    it('RevocableJwtGuard checks no origin: a cross-site POST with a Bearer token or without is judged by the token alone', async () => {
      const bob = await tokensOf(running).issue('bob');
      await running.http.post('/guarded').set(bearer(bob.accessToken)).set(CROSS_SITE).expect(200);
      expect((await running.http.post('/guarded').set(CROSS_SITE)).status).toBe(401);
    });
  });
});
