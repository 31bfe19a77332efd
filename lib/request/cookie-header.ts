/**
 * Reading the `Cookie` header and writing `Set-Cookie` headers, on Express,
 * Fastify and node:http responses alike, with no cookie package: the module
 * needs three attributes' worth of RFC 6265, and the app may not have a
 * cookie parser installed (or may have one for its own cookies).
 */

/** The value of the first cookie called `name` in a `Cookie` header, URL-decoded; null when absent or undecodable. */
export function cookieValue(header: string, name: string): string | null {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      return decodeURIComponent(value);
    } catch {
      return null;
    }
  }
  return null;
}

/** Does the request carry a cookie called `name` (with any value)? */
export function hasCookie(headers: Record<string, unknown>, name: string): boolean {
  return typeof headers.cookie === 'string' && cookieValue(headers.cookie, name) !== null;
}

export interface CookieAttributes {
  path: string;
  /** Seconds; 0 tells the browser to drop the cookie now. */
  maxAge: number;
  secure: boolean;
  sameSite: 'Lax' | 'Strict';
  domain?: string;
}

/** One `Set-Cookie` value. Always HttpOnly: no cookie of this module is for scripts. */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes): string {
  const maxAge = Math.max(0, Math.floor(attributes.maxAge));
  return [
    `${name}=${encodeURIComponent(value)}`,
    `Max-Age=${maxAge}`,
    ...(attributes.domain === undefined ? [] : [`Domain=${attributes.domain}`]),
    `Path=${attributes.path}`,
    'HttpOnly',
    ...(attributes.secure ? ['Secure'] : []),
    `SameSite=${attributes.sameSite}`,
  ].join('; ');
}

interface ResponseLike {
  /** Fastify's reply: the node response under it. */
  raw?: unknown;
  /** Fastify's reply appends for `set-cookie`; Express's `header` replaces, so it is only used on a Fastify reply. */
  header?: (name: string, value: string) => unknown;
  /** node:http (Node 18.3+), so Express too: adds a value, keeps the others. */
  appendHeader?: (name: string, value: string) => unknown;
  getHeader?: (name: string) => unknown;
  setHeader?: (name: string, value: string | string[]) => unknown;
}

/**
 * Adds one `Set-Cookie` header to the response, keeping every one already
 * set (the app's own cookies, a session middleware's): replacing them would
 * log the user out of something else. False when the object is no HTTP
 * response this knows how to write to.
 */
export function appendSetCookie(response: unknown, value: string): boolean {
  if (response === null || typeof response !== 'object') return false;
  const res = response as ResponseLike;
  if (res.raw !== undefined && typeof res.header === 'function') {
    res.header('set-cookie', value);
    return true;
  }
  if (typeof res.appendHeader === 'function') {
    res.appendHeader('Set-Cookie', value);
    return true;
  }
  if (typeof res.setHeader === 'function') {
    const previous = typeof res.getHeader === 'function' ? res.getHeader('Set-Cookie') : undefined;
    const values = previous === undefined ? [] : Array.isArray(previous) ? previous.map(String) : [String(previous)];
    res.setHeader('Set-Cookie', [...values, value]);
    return true;
  }
  return false;
}
