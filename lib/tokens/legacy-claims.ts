import { createHash } from 'node:crypto';
import { InvalidTokenException } from '../errors/invalid-token.exception.js';
import type { ResolvedMigration } from '../config/migration-options.js';
import type { VerifiedToken } from '../interfaces/verified-token.interface.js';
import { audienceMatches, isString, isTime, KEY_HEADERS } from './token-claims.js';

/**
 * The `jti` and `sid` of an old token: a hash of its signed part (header and
 * payload, as sent). Not of the signature: the same signed part can carry
 * several signatures that verify (base64url's spare bits under RSA and ECDSA,
 * ECDSA's (r, n - s)), and a revoked token must not come back under another.
 */
export function legacyTokenId(rawToken: string): string {
  const signed = rawToken.slice(0, rawToken.lastIndexOf('.'));
  return `legacy-${createHash('sha256').update(signed).digest('base64url')}`;
}

/**
 * What an old token must look like once jsonwebtoken verified its signature
 * (and `exp`, `nbf`, `iss`, `aud` by the window's options): a subject, an
 * `iat` and an `exp` no further apart than `maxTokenLifetime` (a token
 * without `exp` would never die), no header that points at a key. Returns
 * the claims the guard hands on: the token's own, with `jti`, `sid`, `ver`
 * and `legacy` set here. Anything else is a 401.
 */
export function checkLegacyToken(
  header: unknown,
  payload: unknown,
  rawToken: string,
  migration: ResolvedMigration,
  tolerance: number,
  now: number,
): VerifiedToken {
  if (header === null || typeof header !== 'object') throw new InvalidTokenException();
  const h = header as Record<string, unknown>;
  if (h.crit !== undefined || KEY_HEADERS.some((name) => name in h)) throw new InvalidTokenException();
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new InvalidTokenException();
  const claims = payload as Record<string, unknown>;
  if (
    !isString(claims.sub, 255) ||
    !isTime(claims.iat) ||
    !isTime(claims.exp) ||
    claims.iat > now + tolerance ||
    claims.exp <= claims.iat ||
    claims.exp - claims.iat > migration.maxTokenLifetime ||
    now >= claims.exp + tolerance ||
    (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > now + tolerance)) ||
    (migration.issuer !== undefined && claims.iss !== migration.issuer) ||
    (migration.audience !== undefined && !audienceMatches(claims.aud, migration.audience))
  ) {
    throw new InvalidTokenException();
  }
  const id = legacyTokenId(rawToken);
  // Version 0: the version a subject starts at, so the first subject-wide revocation after adoption is already above it.
  return { ...claims, sub: claims.sub, iat: claims.iat, exp: claims.exp, jti: id, sid: id, ver: 0, legacy: true };
}
