import { fail } from '../errors/jwt-revocation-options.error.js';
import type { CookieModeOptions } from '../interfaces/cookie-mode-options.interface.js';

/** The `cookies` option after defaults and checks: what `SessionCookies` and the cross-site check read. */
export interface ResolvedCookies {
  accessName: string;
  refreshName: string;
  refreshPath: string;
  secure: boolean;
  sameSite: 'Lax' | 'Strict';
  domain?: string;
  /** Serialized origins (`https://host[:port]`), compared as strings with a request's `Origin`. */
  trustedOrigins: ReadonlySet<string>;
}

const KNOWN = new Set([
  'refreshPath',
  'secure',
  'sameSite',
  'domain',
  'accessCookieName',
  'refreshCookieName',
  'trustedOrigins',
]);

/** RFC 6265 cookie-name: a token, no separators. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** An absolute path of visible ASCII, no `;` (it would end the attribute) and no `,` (old parsers split on it). */
const COOKIE_PATH = /^\/[\x21-\x2b\x2d-\x3a\x3c-\x7e]*$/;
/** A host name: letters, digits, dots and hyphens, an optional leading dot (which browsers ignore). */
const COOKIE_DOMAIN = /^\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

function nameOf(option: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !COOKIE_NAME.test(value)) fail(`option "cookies.${option}" must be a cookie name`);
  return value;
}

/**
 * A cookie prefix is a promise browsers keep only when its rules hold: they
 * refuse to store a `__Secure-` cookie without Secure, and a `__Host-` one
 * without Secure, with a Domain or with a Path other than `/`. Browsers match
 * the prefixes in any case (RFC 6265bis), so the check does too. A cookie the
 * browser refuses would fail every login silently: refuse it here instead.
 */
function checkPrefix(option: string, name: string, cookie: { secure: boolean; domain?: string; path: string }): void {
  const lower = name.toLowerCase();
  if ((lower.startsWith('__secure-') || lower.startsWith('__host-')) && !cookie.secure)
    fail(`option "cookies.${option}" (${name}) has a prefix that needs Secure, but "cookies.secure" is false`);
  if (lower.startsWith('__host-') && cookie.domain !== undefined)
    fail(`option "cookies.${option}" (${name}) has the __Host- prefix, which forbids "cookies.domain"`);
  if (lower.startsWith('__host-') && cookie.path !== '/')
    fail(`option "cookies.${option}" (${name}) has the __Host- prefix, which needs Path=/ (it is ${cookie.path})`);
}

function originsOf(value: unknown): Set<string> {
  if (value === undefined) return new Set();
  if (!Array.isArray(value)) fail('option "cookies.trustedOrigins" must be an array of origins');
  const origins = new Set<string>();
  for (const origin of value as unknown[]) {
    let parsed: URL | null = null;
    try {
      parsed = typeof origin === 'string' ? new URL(origin) : null;
    } catch {
      parsed = null;
    }
    // Exactly an origin, as a browser sends it in `Origin`: no path, no trailing slash, no wildcard, not "null".
    if (parsed === null || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin)
      fail(
        `option "cookies.trustedOrigins" holds ${JSON.stringify(origin)}: each entry must be an origin as browsers send it, such as https://app.example.com (scheme, host, port if not the default; no path)`,
      );
    origins.add(origin as string);
  }
  return origins;
}

/** Checks the `cookies` option and fills in its defaults; a wrong value stops the app at bootstrap, naming it. */
export function resolveCookies(options: CookieModeOptions): ResolvedCookies {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    fail('option "cookies" must be an object such as { refreshPath: "/auth/refresh" }');
  for (const key of Object.keys(options)) if (!KNOWN.has(key)) fail(`unknown option "cookies.${key}"`);
  const { refreshPath, secure = true, sameSite = 'lax', domain } = options;
  if (typeof refreshPath !== 'string' || !COOKIE_PATH.test(refreshPath))
    fail('option "cookies.refreshPath" must be the path of the refresh endpoint, such as "/auth/refresh"');
  if (refreshPath === '/')
    fail(
      'option "cookies.refreshPath" is "/": the refresh cookie would go with every request; name the refresh endpoint',
    );
  if (typeof secure !== 'boolean') fail('option "cookies.secure" must be true or false');
  if (sameSite !== 'lax' && sameSite !== 'strict') {
    fail(
      `option "cookies.sameSite" must be 'lax' or 'strict', got ${JSON.stringify(sameSite)}${String(sameSite).toLowerCase() === 'none' ? ": 'none' would send the cookies with cross-site requests" : ''}`,
    );
  }
  if (domain !== undefined && (typeof domain !== 'string' || domain.length > 253 || !COOKIE_DOMAIN.test(domain)))
    fail('option "cookies.domain" must be a host name such as example.com');
  const accessName = nameOf(
    'accessCookieName',
    options.accessCookieName,
    !secure ? 'access-token' : domain === undefined ? '__Host-access-token' : '__Secure-access-token',
  );
  const refreshName = nameOf(
    'refreshCookieName',
    options.refreshCookieName,
    secure ? '__Secure-refresh-token' : 'refresh-token',
  );
  if (accessName === refreshName)
    fail('options "cookies.accessCookieName" and "cookies.refreshCookieName" name the same cookie');
  checkPrefix('accessCookieName', accessName, { secure, domain, path: '/' });
  checkPrefix('refreshCookieName', refreshName, { secure, domain, path: refreshPath });
  return {
    accessName,
    refreshName,
    refreshPath,
    secure,
    sameSite: sameSite === 'lax' ? 'Lax' : 'Strict',
    domain,
    trustedOrigins: originsOf(options.trustedOrigins),
  };
}
