import type { JwtRevocationConfig } from '../config/jwt-revocation.config.js';

interface RequestLike {
  headers: Record<string, string | string[] | undefined>;
}

const BEARER = /^Bearer[ ]+([^ ]+)[ ]*$/i;

function cookieValue(header: string, name: string): string | null {
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

/**
 * The request's token, for `AccessTokenCheck` (and the strategy's
 * `jwtFromRequest`): the Bearer header first, then the cookie if one is
 * configured. A value longer than `maxTokenLength` counts as no
 * token, so an oversized header or cookie is refused before any parsing.
 */
export function createTokenExtractor(config: JwtRevocationConfig): (request: RequestLike) => string | null {
  const { header: fromHeader, cookie } = config.tokenFrom;
  const max = config.maxTokenLength;
  return (request) => {
    let token: string | null = null;
    const authorization = request.headers.authorization;
    if (fromHeader && typeof authorization === 'string') token = BEARER.exec(authorization)?.[1] ?? null;
    if (token === null && cookie && typeof request.headers.cookie === 'string')
      token = cookieValue(request.headers.cookie, cookie);
    return token !== null && token.length > 0 && token.length <= max ? token : null;
  };
}

/** A token's header, unverified: only to pick the key (`kid`, `alg`) and the path (`typ`), never to trust. */
export function headerOf(token: string): Record<string, unknown> | null {
  const dot = token.indexOf('.');
  if (dot <= 0) return null;
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as unknown;
    return header !== null && typeof header === 'object' ? (header as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
