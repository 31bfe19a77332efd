import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Req, UseGuards } from '@nestjs/common';
import { AccessTokenCheck, KeyRing, RevocableJwtGuard, type JwtRevocationModuleOptions } from 'nestjs-jwt-revocation';

import { forge, decodePart } from '../../support/forge.js';
import { startGuardApp, tokensOf, WhoController } from '../../support/guard-app.js';
import { bearer, expect401 } from '../../support/http.js';
import { TEST_SECRET } from '../../support/keys.js';
import type { RunningTestApp } from '../../support/test-app.js';
import { earlyInASecond, until } from '../../support/time.js';

/** Changes request.user in place: what an app's later guard or handler may do. */
@Controller('scribble')
@UseGuards(RevocableJwtGuard)
class ScribbleController {
  @Get()
  scribble(@Req() request: { user: Record<string, unknown> }) {
    const seen = { ...request.user };
    request.user.sub = 'someone-else';
    request.user.extra = 'added by the app';
    return seen;
  }
}

const cachedTokens = (running: RunningTestApp) => running.app.get(AccessTokenCheck).cachedTokens;

async function withApp(options: Partial<JwtRevocationModuleOptions>, run: (app: RunningTestApp) => Promise<void>) {
  const running = await startGuardApp({ signing: { secret: TEST_SECRET }, ...options } as JwtRevocationModuleOptions, {
    controllers: [WhoController, ScribbleController],
  });
  try {
    await run(running);
  } finally {
    await running.close();
  }
}

/**
 * The guard keeps tokens whose signature it checked, by their text. What it
 * keeps must never let a token through that the full check would refuse.
 */
describe('the verified-token cache', () => {
  it('a repeated token is served from the cache (the other tests rely on it)', async () => {
    await withApp({}, async (running) => {
      const { accessToken } = await tokensOf(running).issue('cache.ann');
      expect(cachedTokens(running)).toBe(0);
      await running.http.get('/who').set(bearer(accessToken)).expect(200);
      await running.http.get('/who').set(bearer(accessToken)).expect(200);
      expect(cachedTokens(running)).toBe(1);
    });
  });

  it('a revoked token, session or subject is refused on the very next request', async () => {
    await withApp({}, async (running) => {
      const tokens = tokensOf(running);
      const one = await tokens.issue('cache.bob');
      const two = await tokens.issue('cache.bob');
      const three = await tokens.issue('cache.bob');
      for (const pair of [one, two, three]) await running.http.get('/who').set(bearer(pair.accessToken)).expect(200);
      expect(cachedTokens(running)).toBe(3);

      await tokens.revokeToken(one.accessToken);
      expect401(await running.http.get('/who').set(bearer(one.accessToken)));
      await running.http.get('/who').set(bearer(two.accessToken)).expect(200);

      await tokens.revokeSession(two.sessionId);
      expect401(await running.http.get('/who').set(bearer(two.accessToken)));
      await running.http.get('/who').set(bearer(three.accessToken)).expect(200);

      await tokens.revokeAllForSubject('cache.bob');
      expect401(await running.http.get('/who').set(bearer(three.accessToken)));
    });
  });

  it('an expired token is refused from its exp on, though it was served from the cache a moment before', async () => {
    await withApp({ accessTokenTtl: 2, refreshTokenTtl: 60, clockTolerance: 0 }, async (running) => {
      await earlyInASecond();
      const { accessToken } = await tokensOf(running).issue('cache.cy');
      const { exp } = decodePart(accessToken, 1) as { exp: number };
      await running.http.get('/who').set(bearer(accessToken)).expect(200);
      await running.http.get('/who').set(bearer(accessToken)).expect(200);
      expect(cachedTokens(running)).toBe(1);
      await until(exp * 1000);
      expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
      expect401(await running.http.get('/who').set(bearer(accessToken)));
      // And it no longer takes a place.
      expect(cachedTokens(running)).toBe(0);
    });
  });

  it('a token of a retired key is refused at once', async () => {
    const keys = {
      keys: [
        { kid: 'old', secret: TEST_SECRET },
        { kid: 'new', secret: `${TEST_SECRET}-new` },
      ],
    };
    await withApp({ signing: keys }, async (running) => {
      const { accessToken } = await tokensOf(running).issue('cache.dee');
      await running.http.get('/who').set(bearer(accessToken)).expect(200);
      await running.http.get('/who').set(bearer(accessToken)).expect(200);
      const ring = running.app.get(KeyRing);
      ring.use('new');
      await running.http.get('/who').set(bearer(accessToken)).expect(200);
      ring.retire('old');
      expect401(await running.http.get('/who').set(bearer(accessToken)));
      expect(cachedTokens(running)).toBe(0);
    });
  });

  it('each request gets its own copy of the claims: what a handler changes does not reach the next request', async () => {
    await withApp({}, async (running) => {
      const { accessToken } = await tokensOf(running).issue('cache.eve');
      for (let i = 0; i < 3; i++) {
        const res = await running.http.get('/scribble').set(bearer(accessToken)).expect(200);
        expect(res.body.sub).toBe('cache.eve');
        expect(res.body.extra).toBeUndefined();
      }
      expect(cachedTokens(running)).toBe(1);
    });
  });

  it('holds at most verifiedTokenCacheSize tokens, and the evicted ones still pass (checked again)', async () => {
    await withApp({ verifiedTokenCacheSize: 2 }, async (running) => {
      const pairs = await Promise.all(['f1', 'f2', 'f3', 'f4'].map((sub) => tokensOf(running).issue(sub)));
      for (let round = 0; round < 2; round++)
        for (const pair of pairs) {
          const res = await running.http.get('/who').set(bearer(pair.accessToken)).expect(200);
          expect(res.body.jti).toBe(pair.jti);
        }
      expect(cachedTokens(running)).toBe(2);
    });
  });

  it('verifiedTokenCacheSize 0 keeps nothing', async () => {
    await withApp({ verifiedTokenCacheSize: 0 }, async (running) => {
      const { accessToken } = await tokensOf(running).issue('cache.gus');
      await running.http.get('/who').set(bearer(accessToken)).expect(200);
      await running.http.get('/who').set(bearer(accessToken)).expect(200);
      expect(cachedTokens(running)).toBe(0);
    });
  });

  it('only verified tokens get in: forgeries and tokens that break a claim rule leave it empty', async () => {
    await withApp({}, async (running) => {
      const { accessToken } = await tokensOf(running).issue('cache.hal');
      const header = decodePart(accessToken, 0);
      const claims = decodePart(accessToken, 1);
      const hostile = [
        forge(header, claims, `${TEST_SECRET}-wrong`),
        forge(header, { ...claims, sub: 'someone-else' }, `${TEST_SECRET}x`),
        // Validly signed, but its lifetime is longer than accessTokenTtl.
        forge(header, { ...claims, exp: Number(claims.exp) + 3600 }, TEST_SECRET),
        forge({ ...header, typ: 'JWT' }, claims, TEST_SECRET),
      ];
      for (const token of hostile) {
        expect401(await running.http.get('/who').set(bearer(token)));
        expect(cachedTokens(running)).toBe(0);
      }
    });
  });
});
