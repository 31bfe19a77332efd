import 'reflect-metadata';
import { expect, it, jest } from '@jest/globals';
import { Test } from '@nestjs/testing';
import {
  JwtRevocationModule,
  TokenEvents,
  TokenStore,
  type JwtRevocationModuleOptions,
  type RenewalRequest,
  type RenewalResult,
  type TokenEvent,
} from 'nestjs-jwt-revocation';
import { InMemoryTokenStore } from 'nestjs-jwt-revocation/testing';
import {
  ACCESS,
  REFRESH,
  SAME_ORIGIN,
  cookieHeader,
  loginCookies,
  setCookie,
  setCookiesOf,
  startCookieApp,
} from '../../support/cookie-app.js';
import { decodePart } from '../../support/forge.js';
import { startGuardApp, tokensOf, WhoController } from '../../support/guard-app.js';
import { bearer } from '../../support/http.js';
import { TEST_SECRET } from '../../support/keys.js';
import { testLogs } from '../../support/logs.js';
import { eachAdapter, type HttpAdapterName, type RunningTestApp } from '../../support/test-app.js';
import { until } from '../../support/time.js';

/** 60-second tokens renewed from 59 s before their exp: a token is due one second after the second it was issued in. */
const RENEWING: Partial<JwtRevocationModuleOptions> = { accessTokenTtl: 60, slidingRenewal: { threshold: 59 } };
const HEADER = 'x-renewed-access-token';

interface Claims {
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  plan?: string;
}
const claimsOf = (token: string) => decodePart(token, 1) as unknown as Claims;

/** Waits until the token is within 59 s of its exp. */
const untilDue = (token: string) => until((claimsOf(token).iat + 1) * 1000);

async function withApp(
  adapter: HttpAdapterName,
  options: Partial<JwtRevocationModuleOptions>,
  run: (app: RunningTestApp) => Promise<void>,
): Promise<void> {
  const running = await startGuardApp(
    { signing: { secret: TEST_SECRET }, ...RENEWING, ...options } as JwtRevocationModuleOptions,
    { adapter, controllers: [WhoController] },
  );
  try {
    await run(running);
  } finally {
    await running.close();
  }
}

eachAdapter('sliding renewal by the guard', (adapter) => {
  it('a token not yet due gets nothing new; renewal is off unless configured', async () => {
    await withApp(adapter, { slidingRenewal: { threshold: 30 } }, async (running) => {
      const { accessToken } = await tokensOf(running).issue('renew.early');
      const res = await running.http.get('/who').set(bearer(accessToken)).expect(200);
      expect(res.headers[HEADER]).toBeUndefined();
    });
    await withApp(adapter, { slidingRenewal: undefined }, async (running) => {
      const { accessToken } = await tokensOf(running).issue('renew.off');
      await untilDue(accessToken);
      const res = await running.http.get('/who').set(bearer(accessToken)).expect(200);
      expect(res.headers[HEADER]).toBeUndefined();
    });
  });

  it('a due Bearer token gets a new one in the header: same session and claims, logged with its parent, announced', async () => {
    await withApp(adapter, {}, async (running) => {
      const tokens = tokensOf(running);
      const events: TokenEvent[] = [];
      running.app.get(TokenEvents).subscribe((event) => void events.push(event));
      const issued = await tokens.issue('renew.bearer', { plan: 'pro' });
      await untilDue(issued.accessToken);

      const res = await running.http
        .get('/who')
        .set(bearer(issued.accessToken))
        .set('User-Agent', 'Renewing/1.0')
        .expect(200);
      const renewed = res.headers[HEADER] as string;
      expect(typeof renewed).toBe('string');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(setCookiesOf(res)).toEqual([]);

      const old = claimsOf(issued.accessToken);
      const next = claimsOf(renewed);
      expect(next).toMatchObject({ sub: 'renew.bearer', sid: old.sid, plan: 'pro' });
      expect(next.jti).not.toBe(old.jti);
      expect(next.exp).toBeGreaterThan(old.exp);
      expect(await tokens.findToken(next.jti)).toMatchObject({
        tokenType: 'access',
        sessionId: old.sid,
        parentJti: old.jti,
        expiresAt: next.exp * 1000,
        userAgent: 'Renewing/1.0',
        revokedAt: null,
      });
      expect(events).toContainEqual({
        type: 'renewed',
        subject: 'renew.bearer',
        sessionId: old.sid,
        jti: next.jti,
        parentJti: old.jti,
      });

      // Both work: the old one until its own exp. The new one is not due yet.
      await running.http.get('/who').set(bearer(issued.accessToken)).expect(200);
      const after = await running.http
        .get('/who')
        .set(bearer(renewed))
        .expect(200, { sub: 'renew.bearer', sid: old.sid, jti: next.jti });
      expect(after.headers[HEADER]).toBeUndefined();
    });
  });

  it('ten requests at once with one due token all get the same new token, and the log gets one row', async () => {
    await withApp(adapter, {}, async (running) => {
      const tokens = tokensOf(running);
      const issued = await tokens.issue('renew.fanout');
      await untilDue(issued.accessToken);
      const responses = await Promise.all(
        Array.from({ length: 10 }, () => running.http.get('/who').set(bearer(issued.accessToken)).expect(200)),
      );
      const handed = new Set(responses.map((res) => res.headers[HEADER] as string));
      expect(handed.size).toBe(1);
      const [renewed] = [...handed];
      expect(typeof renewed).toBe('string');
      const rows = await tokens.history({ sessionId: issued.sessionId });
      expect(
        rows
          .filter((row) => row.tokenType === 'access')
          .map((row) => row.jti)
          .sort(),
      ).toEqual([issued.jti, claimsOf(renewed).jti].sort());
    });
  });

  it("never renews past the session's absolute lifetime, and stops asking once nothing is gained", async () => {
    // Sessions of 61 s: the first renewal gains a second, the next one nothing.
    await withApp(adapter, { sessionMaxLifetime: 61 }, async (running) => {
      const tokens = tokensOf(running);
      const issued = await tokens.issue('renew.end');
      const session = await tokens.findSession(issued.sessionId);
      const end = Math.floor(((session?.createdAt as number) + 61_000) / 1000);
      await untilDue(issued.accessToken);

      const first = await running.http.get('/who').set(bearer(issued.accessToken)).expect(200);
      const renewed = first.headers[HEADER] as string;
      expect(claimsOf(renewed).exp).toBe(end);

      // Due in its turn, the renewed token would gain nothing: the store is asked once, then not again.
      await untilDue(renewed);
      const asked = jest.spyOn(running.app.get(TokenStore), 'renewAccess');
      for (let i = 0; i < 3; i++) {
        const res = await running.http.get('/who').set(bearer(renewed)).expect(200);
        expect(res.headers[HEADER]).toBeUndefined();
      }
      expect(asked).toHaveBeenCalledTimes(1);
      const rows = await tokens.history({ sessionId: issued.sessionId });
      expect(rows.filter((row) => row.tokenType === 'access')).toHaveLength(2);
    });
  });

  it('a revoked session is refused and renews nothing; its racers get no new token', async () => {
    await withApp(adapter, {}, async (running) => {
      const tokens = tokensOf(running);
      const issued = await tokens.issue('renew.revoked');
      await untilDue(issued.accessToken);
      await tokens.revokeSession(issued.sessionId);
      const res = await running.http.get('/who').set(bearer(issued.accessToken)).expect(401);
      expect(res.headers[HEADER]).toBeUndefined();
      const rows = await tokens.history({ sessionId: issued.sessionId });
      expect(rows.filter((row) => row.tokenType === 'access')).toHaveLength(1);
    });
  });
});

eachAdapter('sliding renewal in cookie mode', (adapter) => {
  it('a due token from the access cookie gets a new access cookie; the refresh cookie is left alone', async () => {
    const running = await startCookieApp(adapter, RENEWING);
    try {
      const login = await loginCookies(running, 'renew.cookie');
      await untilDue(login.access);
      const res = await running.http
        .get('/me')
        .set(SAME_ORIGIN)
        .set(cookieHeader({ [ACCESS]: login.access, [REFRESH]: login.refresh }))
        .expect(200);
      expect(res.headers[HEADER]).toBeUndefined();
      const cookie = setCookie(res, ACCESS);
      expect(setCookiesOf(res).map((c) => c.name)).toEqual([ACCESS]);
      const next = claimsOf(cookie.value);
      expect(next).toMatchObject({ sid: login.sessionId });
      expect(next.jti).not.toBe(claimsOf(login.access).jti);
      // The attributes the login set, with the new token's remaining lifetime as Max-Age.
      const maxAge = Number(/Max-Age=(\d+)/.exec(cookie.attributes)?.[1]);
      expect(maxAge).toBeGreaterThan(55);
      expect(maxAge).toBeLessThanOrEqual(60);
      expect(cookie.attributes).toBe(`Max-Age=${maxAge}; Path=/; HttpOnly; Secure; SameSite=Lax`);
      await running.http
        .get('/me')
        .set(SAME_ORIGIN)
        .set(cookieHeader({ [ACCESS]: cookie.value }))
        .expect(200);
    } finally {
      await running.close();
    }
  });

  it('a due Bearer token in cookie mode gets the header, not a cookie', async () => {
    const running = await startCookieApp(adapter, RENEWING);
    try {
      const issued = await tokensOf(running).issue('renew.cookie-bearer');
      await untilDue(issued.accessToken);
      const res = await running.http.get('/me').set(bearer(issued.accessToken)).expect(200);
      expect(typeof res.headers[HEADER]).toBe('string');
      expect(setCookiesOf(res)).toEqual([]);
    } finally {
      await running.close();
    }
  });
});

/** A store whose renewals fail, as a database that is down would. */
class FailingRenewals extends InMemoryTokenStore {
  override async renewAccess(_request: RenewalRequest): Promise<RenewalResult> {
    throw new Error('renewal store down');
  }
}

/** A store of an older release: no renewAccess of its own. */
class WithoutRenewals extends InMemoryTokenStore {}
WithoutRenewals.prototype.renewAccess = TokenStore.prototype.renewAccess;

eachAdapter('sliding renewal with a store that cannot renew', (adapter) => {
  it('a failing store costs the renewal only: the request is answered, the failure logged, the next one asks again', async () => {
    testLogs.expect(/could not renew an access token: renewal store down/);
    await withApp(adapter, { store: FailingRenewals } as Partial<JwtRevocationModuleOptions>, async (running) => {
      const issued = await tokensOf(running).issue('renew.down');
      await untilDue(issued.accessToken);
      for (let i = 0; i < 2; i++) {
        const res = await running.http.get('/who').set(bearer(issued.accessToken)).expect(200);
        expect(res.headers[HEADER]).toBeUndefined();
      }
      expect(testLogs.take(/could not renew an access token/)).toHaveLength(2);
    });
  });
});

it('slidingRenewal with a store that does not implement renewAccess stops the app at bootstrap, naming the option', async () => {
  const app = (
    await Test.createTestingModule({
      imports: [
        JwtRevocationModule.forRoot({
          signing: { secret: TEST_SECRET },
          slidingRenewal: { threshold: 60 },
          store: WithoutRenewals,
        }),
      ],
    }).compile()
  ).createNestApplication({ logger: false });
  await expect(app.init()).rejects.toThrow(
    /option "slidingRenewal" needs a store that implements renewAccess\(\); WithoutRenewals/,
  );
  await app.close().catch(() => undefined);
});
