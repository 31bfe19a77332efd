import type { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import { cookieValue } from './cookie-header.js';

interface RequestLike {
  headers: Record<string, string | string[] | undefined>;
}

const BEARER = /^Bearer[ ]+([^ ]+)[ ]*$/i;

/**
 * The Bearer token of the Authorization header, when the header is a token
 * source: what the guard authenticates a request by before any cookie. A
 * request that has one is not cross-site forgeable (a page of another site
 * cannot add the header without the app's CORS consent), so cookie mode's
 * cross-site check lets it through.
 */
export function bearerToken(config: JwtRevocationConfig, request: RequestLike): string | null {
  const authorization = request.headers.authorization;
  if (!config.tokenFrom.header || typeof authorization !== 'string') return null;
  return BEARER.exec(authorization)?.[1] ?? null;
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
