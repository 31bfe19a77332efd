import 'reflect-metadata';
import { expect } from '@jest/globals';
import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Put, Req, Res, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import {
  CurrentToken,
  Logout,
  LogoutAll,
  Public,
  RevocableJwtGuard,
  SessionCookies,
  TokenLogService,
  type CookieModeOptions,
  type JwtRevocationModuleOptions,
  type VerifiedToken,
} from 'nestjs-jwt-revocation';
import { startGuardApp } from './guard-app.js';
import { TEST_SECRET } from './keys.js';
import type { HttpAdapterName, RunningTestApp } from './test-app.js';

/** A cookie of the app's own, set through the framework's usual call: Express's res.append, Fastify's reply.header. */
export function appendOwnCookie(response: object, value: string): void {
  const res = response as {
    append?: (name: string, value: string) => unknown;
    header: (name: string, value: string) => unknown;
  };
  if (typeof res.append === 'function') res.append('Set-Cookie', value);
  else res.header('set-cookie', value);
}

/** Login, refresh and logout in cookie mode, written as the README's example. */
@Controller('auth')
export class CookieAuthController {
  constructor(
    private readonly tokens: TokenLogService,
    private readonly cookies: SessionCookies,
  ) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  async login(@Body() body: unknown, @Res({ passthrough: true }) response: object) {
    const subject = (body as { subject?: string } | undefined)?.subject ?? 'cookie-user';
    const tokens = await this.tokens.issue(subject);
    this.cookies.set(response, tokens);
    return { expiresIn: tokens.expiresIn, refreshExpiresIn: tokens.refreshExpiresIn, sessionId: tokens.sessionId };
  }

  /** The same, with cookies of the app's own set before and after the module's. */
  @Public()
  @Post('login-with-theme')
  @HttpCode(200)
  async loginWithTheme(@Res({ passthrough: true }) response: object) {
    appendOwnCookie(response, 'theme=dark; Path=/');
    const tokens = await this.tokens.issue('theme-user');
    this.cookies.set(response, tokens);
    appendOwnCookie(response, 'lang=en; Path=/');
    return { sessionId: tokens.sessionId };
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  async refresh(@Req() request: object, @Res({ passthrough: true }) response: object) {
    const tokens = await this.tokens.refresh(this.cookies.refreshTokenOf(request) ?? '');
    this.cookies.set(response, tokens);
    return { expiresIn: tokens.expiresIn, refreshExpiresIn: tokens.refreshExpiresIn, sessionId: tokens.sessionId };
  }

  @Post('logout')
  @HttpCode(204)
  @Logout()
  logout(@Res({ passthrough: true }) response: object): void {
    appendOwnCookie(response, 'goodbye=1; Path=/');
  }

  @Post('logout-all')
  @HttpCode(204)
  @LogoutAll()
  logoutAll(): void {}
}

/** Guarded routes: a read, and a write (an unsafe method, so the cross-site check applies). */
@Controller('me')
export class CookieMeController {
  @Get()
  me(@CurrentToken() token: VerifiedToken) {
    return { sub: token.sub, sid: token.sid, jti: token.jti };
  }

  @Post('notes')
  @HttpCode(201)
  note(@CurrentToken('sub') sub: string) {
    return { sub };
  }

  @Put('notes')
  put(@CurrentToken('sub') sub: string) {
    return { sub };
  }

  @Patch('notes')
  patch(@CurrentToken('sub') sub: string) {
    return { sub };
  }

  @Delete('notes')
  remove(@CurrentToken('sub') sub: string) {
    return { sub };
  }
}

export const COOKIE_OPTIONS: CookieModeOptions = { refreshPath: '/auth/refresh' };

/** The host name the tests browse: requests carry `Host: app.example.com`, so the app's own origin is https://app.example.com. */
export const HOST = 'app.example.com';
export const OWN_ORIGIN = `https://${HOST}`;

/** A cookie-mode app: the guard global (APP_GUARD), the auth and me controllers unless others are given. */
export function startCookieApp(
  adapter: HttpAdapterName,
  options: Partial<JwtRevocationModuleOptions> = {},
  controllers: Type[] = [CookieAuthController, CookieMeController],
): Promise<RunningTestApp> {
  return startGuardApp(
    { signing: { secret: TEST_SECRET }, cookies: COOKIE_OPTIONS, ...options },
    { adapter, controllers, providers: [{ provide: APP_GUARD, useClass: RevocableJwtGuard }] },
  );
}

/** One Set-Cookie header, split: the name, the value, and the attributes after it as written. */
export interface SetCookie {
  raw: string;
  name: string;
  value: string;
  attributes: string;
}

/** The response's Set-Cookie headers, in order. */
export function setCookiesOf(res: { headers: Record<string, unknown> }): SetCookie[] {
  const header = res.headers['set-cookie'];
  const values = header === undefined ? [] : Array.isArray(header) ? (header as string[]) : [String(header)];
  return values.map((raw) => {
    const semi = raw.indexOf(';');
    const pair = semi < 0 ? raw : raw.slice(0, semi);
    const eq = pair.indexOf('=');
    return {
      raw,
      name: pair.slice(0, eq),
      value: decodeURIComponent(pair.slice(eq + 1)),
      attributes: semi < 0 ? '' : raw.slice(semi + 2),
    };
  });
}

/** The one Set-Cookie of that name (fails the test when there is none or more than one). */
export function setCookie(res: { headers: Record<string, unknown> }, name: string): SetCookie {
  const found = setCookiesOf(res).filter((c) => c.name === name);
  expect(found.map((c) => c.name)).toEqual([name]);
  return found[0];
}

/** The default cookie names (Secure, no Domain). */
export const ACCESS = '__Host-access-token';
export const REFRESH = '__Secure-refresh-token';

/** What a browser would send back: `Cookie: a=1; b=2`. */
export function cookieHeader(cookies: Record<string, string>): { Cookie: string } {
  return {
    Cookie: Object.entries(cookies)
      .map(([name, value]) => `${name}=${value}`)
      .join('; '),
  };
}

/** Headers of a same-origin request from a current browser. */
export const SAME_ORIGIN = { Host: HOST, Origin: OWN_ORIGIN, 'Sec-Fetch-Site': 'same-origin' };

/** Logs in through POST /auth/login (a same-origin browser request) and returns the two cookie values. */
export async function loginCookies(
  running: RunningTestApp,
  subject = 'cookie-user',
): Promise<{ access: string; refresh: string; sessionId: string }> {
  const res = await running.http.post('/auth/login').set(SAME_ORIGIN).send({ subject }).expect(200);
  return {
    access: setCookie(res, ACCESS).value,
    refresh: setCookie(res, REFRESH).value,
    sessionId: (res.body as { sessionId: string }).sessionId,
  };
}
