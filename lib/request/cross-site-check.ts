import type { ResolvedCookies } from '../config/cookie-options.js';
import { hasCookie } from './cookie-header.js';

export interface CrossSiteRequest {
  method?: unknown;
  headers?: Record<string, string | string[] | undefined>;
}

/** Methods that must not change anything (RFC 9110 "safe"): a cross-site GET is a link, not a forgery. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Not an HTTP request (an RPC or WebSocket context), or one of a safe method: nothing to check. */
export function needsNoCheck(request: CrossSiteRequest): boolean {
  return (
    typeof request.method !== 'string' ||
    request.headers === undefined ||
    SAFE_METHODS.has(request.method.toUpperCase())
  );
}

/** A Host header as browsers send it: a name or an IP literal, an optional port; nothing that could smuggle a path or userinfo. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** A header's one value; a repeated header (Node joins most with ", ") never equals an origin, so it is refused. */
function headerOf(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * The app's own origin for this request: the scheme cookie mode implies
 * (`https` when the cookies are Secure) and the `Host` header. A browser
 * always sends the Host of the URL it requests, so a forged request from
 * another site names ours. `X-Forwarded-Host` and `X-Forwarded-Proto` are
 * never read: behind a proxy that rewrites Host, list the public origin in
 * `cookies.trustedOrigins`.
 */
export function ownOrigin(headers: Record<string, string | string[] | undefined>, secure: boolean): string | null {
  const host = headerOf(headers, 'host');
  if (host === undefined || !HOST.test(host)) return null;
  try {
    // URL drops a default port and lower-cases the host, as a browser's Origin has them.
    return new URL(`${secure ? 'https' : 'http'}://${host}`).origin;
  } catch {
    return null;
  }
}

/**
 * Cookie mode's answer to cross-site request forgery, for one request: true
 * when it must be refused. SameSite=Lax or Strict already keeps the cookies
 * off most cross-site requests; this closes what SameSite leaves open (a
 * sibling subdomain is "same site", top-level POST navigations in some
 * browsers, login forgery, which needs no cookie at all).
 *
 * - Safe methods pass, and so does a request with a Bearer header (the guard
 *   authenticates it by that header, never by a cookie; a page of another
 *   site cannot add one without the app's CORS consent).
 * - With Fetch Metadata (every current browser): `Sec-Fetch-Site`
 *   `same-origin` or `none` (typed by the user) passes; `same-site`,
 *   `cross-site` and anything else pass only from a trusted `Origin`.
 * - Without it: `Origin` must be the app's own or a trusted one; `null`
 *   (sandboxed frames, privacy redirects) is refused. A request with neither
 *   header comes from no current browser: it is refused when it carries one
 *   of our cookies, and passes otherwise (a mobile app's or a server's login,
 *   a webhook), since there is then no ambient credential to abuse.
 * - On a route marked `@AllowCrossSite()` (`cookielessAllowed`), a request
 *   that carries neither cookie passes whatever its origin.
 */
export function refusesCrossSite(
  request: CrossSiteRequest,
  cookies: ResolvedCookies,
  hasBearer: boolean,
  cookielessAllowed = false,
): boolean {
  if (needsNoCheck(request) || hasBearer) return false;
  const headers = request.headers!;
  const withCookie = hasCookie(headers, cookies.accessName) || hasCookie(headers, cookies.refreshName);
  // @AllowCrossSite(): another site may post here, but never with the session's cookies.
  if (cookielessAllowed && !withCookie) return false;
  const origin = headerOf(headers, 'origin');
  const trusted = origin !== undefined && cookies.trustedOrigins.has(origin);
  const site = headerOf(headers, 'sec-fetch-site');
  if (site !== undefined) return !(site === 'same-origin' || site === 'none' || trusted);
  if (origin === undefined) return withCookie;
  return !(trusted || origin === ownOrigin(headers, cookies.secure));
}
