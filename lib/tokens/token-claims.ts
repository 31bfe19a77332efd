import { ACCESS_TOKEN_TYP } from '../jwt-revocation.constants.js';
import { InvalidTokenException } from '../errors/invalid-token.exception.js';
import type { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import type { VerifiedToken } from '../interfaces/verified-token.interface.js';

/** Headers that would tell a verifier to fetch or trust a key from the token itself: never honoured, always refused. */
export const KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'];

export const isString = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= max;

export const isTime = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0;

/**
 * What an access token must look like beyond its signature, in one place for
 * the guard and for introspection: the checks jsonwebtoken does not make,
 * and the registered claims (exp, nbf, iss, aud) by its rules. Anything else
 * is a 401.
 */
export function checkAccessToken(
  header: unknown,
  payload: unknown,
  config: JwtRevocationConfig,
  now: number,
): VerifiedToken {
  if (header === null || typeof header !== 'object') throw new InvalidTokenException();
  const h = header as Record<string, unknown>;
  if (typeof h.typ !== 'string' || h.crit !== undefined) throw new InvalidTokenException();
  const typ = h.typ.toLowerCase();
  if (typ !== ACCESS_TOKEN_TYP && typ !== `application/${ACCESS_TOKEN_TYP}`) throw new InvalidTokenException();
  if (KEY_HEADERS.some((name) => name in h)) throw new InvalidTokenException();
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new InvalidTokenException();
  const claims = payload as Record<string, unknown>;
  const tolerance = config.clockTolerance;
  if (
    !isString(claims.sub, 255) ||
    !isString(claims.jti, 64) ||
    !isString(claims.sid, 64) ||
    typeof claims.ver !== 'number' ||
    !Number.isSafeInteger(claims.ver) ||
    claims.ver < 0 ||
    !isTime(claims.iat) ||
    !isTime(claims.exp) ||
    claims.iat > now + tolerance ||
    claims.exp <= claims.iat ||
    // A lifetime longer than configured was not issued here (and would outlive the revocation state's memory).
    claims.exp - claims.iat > config.accessTokenTtl ||
    // Only the legacy path sets it, and allowlist mode trusts it: a token of ours cannot claim it.
    'legacy' in claims
  ) {
    throw new InvalidTokenException();
  }
  // The registered claims, by jsonwebtoken's rules: the guard's passport-jwt
  // checks them too, and introspection relies on these alone.
  if (
    now >= claims.exp + tolerance ||
    (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > now + tolerance)) ||
    (config.issuer !== undefined && claims.iss !== config.issuer) ||
    (config.audience !== undefined && !audienceMatches(claims.aud, config.audience))
  ) {
    throw new InvalidTokenException();
  }
  return claims as VerifiedToken;
}

/** jsonwebtoken's rule: some audience of the token is one the module accepts. */
export function audienceMatches(aud: unknown, accepted: string | string[]): boolean {
  const wanted = Array.isArray(accepted) ? accepted : [accepted];
  const given = Array.isArray(aud) ? aud : [aud];
  return given.some((value) => wanted.includes(value as string));
}
