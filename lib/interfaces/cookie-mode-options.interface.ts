/**
 * Cookie mode: the access and refresh tokens travel in HttpOnly cookies that
 * `SessionCookies` sets, the guard reads the access cookie, logout clears
 * both, and unsafe requests that could carry them are checked for a
 * cross-site origin (403). Off unless given. See README "Cookie mode and CSRF".
 */
export interface CookieModeOptions {
  /**
   * Path of the app's refresh endpoint, as the browser sees it (with any
   * global prefix): the refresh cookie is sent there and nowhere else.
   * Required; `/` is refused.
   */
  refreshPath: string;
  /**
   * The `Secure` attribute. Default true. `false` only for development on
   * http://localhost: browsers drop Secure cookies set over plain HTTP
   * (localhost excepted in Chromium and Firefox).
   */
  secure?: boolean;
  /** `'lax'` (default) or `'strict'`. `'none'` is refused: it would send the cookies with cross-site requests. */
  sameSite?: 'lax' | 'strict';
  /**
   * The `Domain` attribute. Default none: host-only cookies, which the
   * `__Host-` prefix requires and subdomains cannot read or overwrite.
   */
  domain?: string;
  /** Default `__Host-access-token` (Secure, no domain), `__Secure-access-token` (Secure with a domain), else `access-token`. */
  accessCookieName?: string;
  /** Default `__Secure-refresh-token` when Secure, else `refresh-token`. */
  refreshCookieName?: string;
  /**
   * Origins other than the app's own (`https://app.example.com`, no path)
   * whose pages may send unsafe requests (POST, PUT, PATCH, DELETE) with the
   * cookies: a front end on another host of the same site, or the public
   * origin when a proxy in front rewrites `Host`. Default none.
   */
  trustedOrigins?: string[];
}
