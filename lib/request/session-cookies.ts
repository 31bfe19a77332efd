import { Injectable, Logger } from '@nestjs/common';
import type { ResolvedCookies } from '../config/cookie-options.js';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import { CrossSiteRequestException } from '../errors/cross-site-request.exception.js';
import type { IssuedTokens } from '../interfaces/issued-tokens.interface.js';
import { appendSetCookie, cookieValue, hasCookie, serializeCookie, type CookieAttributes } from './cookie-header.js';
import { needsNoCheck, refusesCrossSite, type CrossSiteRequest } from './cross-site-check.js';
import { bearerToken } from './token-extractor.js';

interface RequestLike {
  method?: unknown;
  headers?: Record<string, string | string[] | undefined>;
}

/**
 * Cookie mode (the `cookies` option): the app's handle on the two HttpOnly
 * cookies. `set()` after `issue()` or `refresh()`, `refreshTokenOf()` in the
 * refresh handler; the logout decorators clear them, the guard reads the
 * access cookie and refuses cross-site unsafe requests. Works on Express
 * and Fastify responses (`@Res({ passthrough: true })`), and only ever adds
 * `Set-Cookie` headers, never replaces one the app set.
 *
 * Without the `cookies` option, `enabled` is false, the guard's calls do
 * nothing and the app's calls (`set`, `clear`, `refreshTokenOf`) throw: a
 * handler written for cookie mode must not quietly hand out nothing.
 */
@Injectable()
export class SessionCookies {
  private readonly cookies?: ResolvedCookies;

  constructor(private readonly config: JwtRevocationConfig) {
    this.cookies = config.cookies;
    if (this.cookies && !this.cookies.secure)
      new Logger('JwtRevocation').warn(
        'cookies.secure is false: the session cookies travel over plain HTTP. For development on http://localhost only',
      );
  }

  /** Cookie mode is on. */
  get enabled(): boolean {
    return this.cookies !== undefined;
  }

  /** The access cookie's name (say, `__Host-access-token`). */
  get accessCookieName(): string {
    return this.required().accessName;
  }

  /** The refresh cookie's name (say, `__Secure-refresh-token`). */
  get refreshCookieName(): string {
    return this.required().refreshName;
  }

  /**
   * Sets both cookies from what `issue()` or `refresh()` returned: the access
   * token for the whole site, the refresh token for `refreshPath` only, each
   * with its token's lifetime as Max-Age. Leave the tokens out of the JSON body:
   * a script (an XSS) can read a body, not an HttpOnly cookie.
   */
  set(
    response: object,
    tokens: Pick<IssuedTokens, 'accessToken' | 'expiresIn' | 'refreshToken' | 'refreshExpiresIn'>,
  ): void {
    const cookies = this.required();
    this.setAccess(response, tokens.accessToken, tokens.expiresIn);
    this.write(
      response,
      serializeCookie(cookies.refreshName, tokens.refreshToken, this.refreshAttributes(tokens.refreshExpiresIn)),
      true,
    );
  }

  /** Sets the access cookie alone (a new access token in the same session), Max-Age `expiresIn` seconds. */
  setAccess(response: object, accessToken: string, expiresIn: number): void {
    const cookies = this.required();
    this.write(response, serializeCookie(cookies.accessName, accessToken, this.accessAttributes(expiresIn)), true);
  }

  /** Tells the browser to drop both cookies (Max-Age=0, the same Path, Domain and flags they were set with). */
  clear(response: object): void {
    this.required();
    this.clearBoth(response, true);
  }

  /** The refresh token from the request's refresh cookie; null when it has none. */
  refreshTokenOf(request: object): string | null {
    const cookies = this.required();
    const header = (request as RequestLike).headers?.cookie;
    return typeof header === 'string' ? cookieValue(header, cookies.refreshName) : null;
  }

  /**
   * Throws `CrossSiteRequestException` (403) when cookie mode is on and the
   * request is an unsafe one another site's page may have sent (see
   * `refusesCrossSite`). The guard calls it on every request, `@Public()`
   * routes included; `CsrfGuard` calls it on routes the guard does not cover.
   * `cookielessAllowed` (the guard passes it for `@AllowCrossSite()`): a
   * request carrying neither cookie passes.
   */
  assertNotCrossSite(request: unknown, cookielessAllowed = false): void {
    if (this.cookies === undefined || request === null || typeof request !== 'object') return;
    const req = request as CrossSiteRequest;
    // Most requests are GETs: they skip the Bearer header's parse here (the guard parses it once, later).
    if (needsNoCheck(req)) return;
    const hasBearer = bearerToken(this.config, { headers: req.headers! }) !== null;
    if (refusesCrossSite(req, this.cookies, hasBearer, cookielessAllowed)) throw new CrossSiteRequestException();
  }

  /** True when the guard would read this request's access token from the access cookie (no Bearer header, the cookie present). */
  authenticatesByCookie(request: unknown): boolean {
    if (this.cookies === undefined || request === null || typeof request !== 'object') return false;
    const headers = (request as RequestLike).headers;
    if (headers === undefined) return false;
    return bearerToken(this.config, { headers }) === null && hasCookie(headers, this.cookies.accessName);
  }

  /**
   * The guard refused the request's token with a 401: when it came from the
   * access cookie, the response drops that cookie, so the browser stops
   * sending a dead token. Only the access cookie: a 401 racing a refresh in
   * another tab may arrive after that refresh set new cookies, and deleting a
   * newer access cookie costs one refresh, while deleting the refresh cookie
   * would sign the user out. Does nothing on a response it cannot write to.
   */
  dropRefusedAccessCookie(request: unknown, response: unknown): void {
    if (this.cookies === undefined || !this.authenticatesByCookie(request)) return;
    this.write(response, serializeCookie(this.cookies.accessName, '', this.accessAttributes(0)), false);
  }

  /** For `@Logout()` / `@LogoutAll()`: both cookies dropped, when cookie mode is on and the response can take headers. */
  clearAfterLogout(response: unknown): void {
    if (this.cookies !== undefined) this.clearBoth(response, false);
  }

  private clearBoth(response: unknown, strict: boolean): void {
    const cookies = this.cookies as ResolvedCookies;
    this.write(response, serializeCookie(cookies.accessName, '', this.accessAttributes(0)), strict);
    this.write(response, serializeCookie(cookies.refreshName, '', this.refreshAttributes(0)), strict);
  }

  private accessAttributes(maxAge: number): CookieAttributes {
    const { secure, sameSite, domain } = this.cookies as ResolvedCookies;
    return { path: '/', maxAge, secure, sameSite, domain };
  }

  private refreshAttributes(maxAge: number): CookieAttributes {
    const { secure, sameSite, domain, refreshPath } = this.cookies as ResolvedCookies;
    return { path: refreshPath, maxAge, secure, sameSite, domain };
  }

  private write(response: unknown, value: string, strict: boolean): void {
    if (!appendSetCookie(response, value) && strict)
      throw new TypeError(
        'SessionCookies needs the HTTP response: inject it with @Res({ passthrough: true }) (Express or Fastify)',
      );
  }

  private required(): ResolvedCookies {
    if (this.cookies === undefined)
      throw new Error('SessionCookies: cookie mode is off; give JwtRevocationModule.forRoot() the "cookies" option');
    return this.cookies;
  }
}
