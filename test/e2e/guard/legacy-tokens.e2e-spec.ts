import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  CurrentToken,
  Logout,
  LogoutAll,
  RevocableJwtGuard,
  type JwtRevocationModuleOptions,
  type VerifiedToken,
} from 'nestjs-jwt-revocation';
import { forge } from '../../support/forge.js';
import { startGuardApp, tokensOf } from '../../support/guard-app.js';
import { bearer, expect401 } from '../../support/http.js';
import { TEST_SECRET } from '../../support/keys.js';
import { LEGACY_LIFETIME, LEGACY_SECRET, legacyMigration, legacyToken } from '../../support/legacy-tokens.js';
import { appForSuite } from '../../support/suite-app.js';
import { sleep } from '../../support/time.js';
import { eachAdapter, type HttpAdapterName } from '../../support/test-app.js';

/** An app that signed with @nestjs/jwt, now behind RevocableJwtGuard. */
@Controller('legacy')
@UseGuards(RevocableJwtGuard)
class AccountController {
  @Get('me')
  me(@CurrentToken() token: VerifiedToken) {
    return token;
  }

  @Post('logout')
  @HttpCode(204)
  @Logout()
  logout(): void {}

  @Post('logout-all')
  @HttpCode(204)
  @LogoutAll()
  logoutAll(): void {}
}

const start = (adapter: HttpAdapterName, options: Partial<JwtRevocationModuleOptions> = {}) =>
  startGuardApp(
    { signing: { secret: TEST_SECRET }, migration: legacyMigration(), ...options },
    { adapter, controllers: [AccountController] },
  );

const now = () => Math.floor(Date.now() / 1000);

eachAdapter('the app’s existing JWTs in a migration window', (adapter) => {
  describe('inside the window', () => {
    const running = appForSuite(() => start(adapter));
    const me = (token: string) => running.http.get('/legacy/me').set(bearer(token));

    it('accepts a token JwtService.sign() made, and @CurrentToken() gives its claims, legacy: true, ver 0 and a stable jti = sid', async () => {
      const token = legacyToken({ sub: 'user-1', username: 'ada' });
      const first = await me(token).expect(200);
      expect(first.body).toMatchObject({ sub: 'user-1', username: 'ada', legacy: true, ver: 0 });
      expect(first.body.jti).toMatch(/^legacy-[A-Za-z0-9_-]{43}$/);
      expect(first.body.sid).toBe(first.body.jti);
      expect((await me(token).expect(200)).body.jti).toBe(first.body.jti);
    });

    it('leaves tokens issued by TokenLogService.issue() as they were: no legacy flag, their own jti and sid', async () => {
      const issued = await tokensOf(running).issue('user-2');
      const res = await me(issued.accessToken).expect(200);
      expect(res.body).toMatchObject({ sub: 'user-2', jti: issued.jti, sid: issued.sessionId });
      expect(res.body).not.toHaveProperty('legacy');
    });

    it.each<[string, () => string]>([
      ['signed with another secret', () => legacyToken({ sub: 'u' }, {}, 'not-the-old-secret-at-all-no-no-no')],
      ['signed with our key (the paths do not share keys)', () => legacyToken({ sub: 'u' }, {}, TEST_SECRET)],
      ['alg none', () => forge({ alg: 'none', typ: 'JWT' }, { sub: 'u', iat: now(), exp: now() + 60 }, null)],
      ['HS512, not listed, with the right secret', () => legacyToken({ sub: 'u' }, { algorithm: 'HS512' })],
      ['without exp', () => legacyToken({ sub: 'u' }, { expiresIn: undefined })],
      ['without sub', () => legacyToken({ username: 'ada' })],
      ['with a numeric sub', () => legacyToken({ sub: 42 })],
      ['without iat', () => legacyToken({ sub: 'u', exp: now() + 60 }, { expiresIn: undefined, noTimestamp: true })],
      ['living longer than maxTokenLifetime', () => legacyToken({ sub: 'u' }, { expiresIn: LEGACY_LIFETIME + 1 })],
      ['expired', () => legacyToken({ sub: 'u', iat: now() - 120 }, { expiresIn: 60 })],
      ['with a crit header', () => legacyToken({ sub: 'u' }, { header: { alg: 'HS256', crit: ['b64'] } as never })],
      [
        'claiming typ at+jwt (judged as ours, and not signed with our key)',
        () => legacyToken({ sub: 'u', jti: 'j', sid: 's', ver: 0 }, { header: { alg: 'HS256', typ: 'at+jwt' } }),
      ],
      ['claiming legacy: true on our path', () => forgeOurs({ legacy: true })],
    ])('refuses a token %s: a plain 401', async (_name, token) => {
      expect401(await me(token()));
    });

    it('@Logout() kills the presented old token, not the user’s other old tokens', async () => {
      const phone = legacyToken({ sub: 'user-3', device: 'phone' });
      const laptop = legacyToken({ sub: 'user-3', device: 'laptop' });
      const { jti } = (await me(phone).expect(200)).body as VerifiedToken;
      await running.http.post('/legacy/logout').set(bearer(phone)).expect(204);
      expect401(await me(phone));
      await me(laptop).expect(200);
      expect(await tokensOf(running).findSession(jti)).toMatchObject({ subject: 'user-3', revokeReason: 'logout' });
    });

    it('@LogoutAll() kills every old token of the user and every token issued to it; a new login works', async () => {
      const phone = legacyToken({ sub: 'user-4', device: 'phone' });
      const laptop = legacyToken({ sub: 'user-4', device: 'laptop' });
      const ours = await tokensOf(running).issue('user-4');
      const someoneElse = legacyToken({ sub: 'user-5' });
      await running.http.post('/legacy/logout-all').set(bearer(phone)).expect(204);
      for (const token of [phone, laptop, ours.accessToken]) expect401(await me(token));
      await me(someoneElse).expect(200);
      await me((await tokensOf(running).issue('user-4')).accessToken).expect(200);
    });
  });

  describe('with issuer and audience', () => {
    const running = appForSuite(() =>
      start(adapter, {
        migration: legacyMigration({
          verify: { secret: LEGACY_SECRET, algorithms: ['HS256'], issuer: 'old-app', audience: 'old-api' },
        }),
      }),
    );
    const me = (token: string) => running.http.get('/legacy/me').set(bearer(token));

    it('accepts the right iss and aud, refuses a wrong or missing one', async () => {
      await me(legacyToken({ sub: 'u' }, { issuer: 'old-app', audience: 'old-api' })).expect(200);
      expect401(await me(legacyToken({ sub: 'u' }, { issuer: 'other', audience: 'old-api' })));
      expect401(await me(legacyToken({ sub: 'u' }, { issuer: 'old-app', audience: 'other' })));
      expect401(await me(legacyToken({ sub: 'u' }, { audience: 'old-api' })));
    });
  });

  describe('with a kid on our key', () => {
    const running = appForSuite(() => start(adapter, { signing: { secret: TEST_SECRET, kid: 'ours-1' } }));
    const me = (token: string) => running.http.get('/legacy/me').set(bearer(token));

    it('an old token naming a kid of the ring is judged as ours (401); naming another kid, as an old one', async () => {
      expect401(await me(legacyToken({ sub: 'u' }, { keyid: 'ours-1' })));
      await me(legacyToken({ sub: 'u' }, { keyid: 'old-1' })).expect(200);
    });
  });

  describe('validateSubject', () => {
    const running = appForSuite(() => start(adapter, { validateSubject: (sub) => sub !== 'deleted-user' }));

    it('still decides for old tokens', async () => {
      await running.http
        .get('/legacy/me')
        .set(bearer(legacyToken({ sub: 'kept-user' })))
        .expect(200);
      expect401(await running.http.get('/legacy/me').set(bearer(legacyToken({ sub: 'deleted-user' }))));
    });
  });

  describe("mode: 'allowlist'", () => {
    const running = appForSuite(() => start(adapter, { mode: 'allowlist' }));
    const me = (token: string) => running.http.get('/legacy/me').set(bearer(token));

    it('accepts old tokens on the denylist’s terms (they have no row to be allowed by); @Logout() kills one', async () => {
      const token = legacyToken({ sub: 'allow-user' });
      await me(token).expect(200);
      await running.http.post('/legacy/logout').set(bearer(token)).expect(204);
      expect401(await me(token));
      await me(legacyToken({ sub: 'allow-user', device: 'other' })).expect(200);
    });
  });

  describe('without the option', () => {
    const running = appForSuite(() => start(adapter, { migration: undefined }));

    it('an old token is a plain 401, ours work', async () => {
      expect401(await running.http.get('/legacy/me').set(bearer(legacyToken({ sub: 'u' }))));
      await running.http
        .get('/legacy/me')
        .set(bearer((await tokensOf(running).issue('u')).accessToken))
        .expect(200);
    });
  });

  describe('after acceptUntil', () => {
    let acceptUntil = new Date();
    const running = appForSuite(() => {
      acceptUntil = new Date(Date.now() + 4000);
      return start(adapter, { migration: legacyMigration({ acceptUntil }) });
    });

    it('an old token accepted before is a plain 401, ours keep working', async () => {
      const token = legacyToken({ sub: 'late-user' });
      const ours = await tokensOf(running).issue('late-user');
      await running.http.get('/legacy/me').set(bearer(token)).expect(200);
      await sleep(acceptUntil.getTime() - Date.now() + 20);
      expect401(await running.http.get('/legacy/me').set(bearer(token)));
      expect401(await running.http.get('/legacy/me').set(bearer(legacyToken({ sub: 'new-user' }))));
      await running.http.get('/legacy/me').set(bearer(ours.accessToken)).expect(200);
    });
  });
});

/** A token shaped and signed like ours, with extra claims. */
function forgeOurs(extra: object): string {
  const id = () => Math.random().toString(36).slice(2);
  return forge(
    { alg: 'HS256', typ: 'at+jwt' },
    { sub: 'u', jti: id(), sid: id(), ver: 0, iat: now(), exp: now() + 60, ...extra },
    TEST_SECRET,
  );
}
