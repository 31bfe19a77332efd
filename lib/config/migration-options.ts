import { createPublicKey, createSecretKey, KeyObject } from 'node:crypto';
import { fail } from '../errors/jwt-revocation-options.error.js';
import type { LegacyAlgorithm } from '../interfaces/jwt-revocation-module-options.interface.js';

/** The `migration` option after checks: what the guard's legacy path reads. */
export interface ResolvedMigration {
  /** Epoch ms; old tokens are accepted strictly before it. */
  acceptUntil: number;
  /** Seconds. */
  maxTokenLifetime: number;
  /** A KeyObject, for the same reason as the signing keys: jsonwebtoken re-parses a string on every call. */
  key: KeyObject;
  algorithms: LegacyAlgorithm[];
  issuer?: string;
  audience?: string | string[];
}

/** Each algorithm with the key it needs; jsonwebtoken checks the same at verification, this says so at bootstrap. */
const KEY_FOR: Record<LegacyAlgorithm, { type: string; curve?: string }> = {
  HS256: { type: 'secret' },
  HS384: { type: 'secret' },
  HS512: { type: 'secret' },
  RS256: { type: 'rsa' },
  RS384: { type: 'rsa' },
  RS512: { type: 'rsa' },
  PS256: { type: 'rsa' },
  PS384: { type: 'rsa' },
  PS512: { type: 'rsa' },
  ES256: { type: 'ec', curve: 'prime256v1' },
  ES384: { type: 'ec', curve: 'secp384r1' },
  ES512: { type: 'ec', curve: 'secp521r1' },
};

/** A date alone (UTC midnight, by ECMAScript's rule) or a date and time with a zone: never local time, which differs between servers. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

function acceptUntilOf(value: unknown): number {
  const at =
    value instanceof Date
      ? value.getTime()
      : typeof value === 'string' && ISO_8601.test(value)
        ? Date.parse(value)
        : NaN;
  if (!Number.isFinite(at))
    fail('option "migration.acceptUntil" must be a Date or an ISO 8601 string with a time zone (2026-12-01T00:00:00Z)');
  return at;
}

function keyOf(verify: Record<string, unknown>): KeyObject {
  const { secret, publicKey } = verify;
  if ((secret === undefined) === (publicKey === undefined))
    fail('option "migration.verify" needs a secret (HS*) or a publicKey (RS*, PS*, ES*), not both');
  if (secret !== undefined) {
    if (secret instanceof KeyObject) {
      if (secret.type !== 'secret') fail('migration.verify.secret must be a secret KeyObject');
      return secret;
    }
    if ((typeof secret !== 'string' && !Buffer.isBuffer(secret)) || secret.length === 0)
      fail('migration.verify.secret must be a non-empty string, a Buffer or a KeyObject');
    return createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret);
  }
  if (publicKey instanceof KeyObject) {
    if (publicKey.type !== 'public') fail('migration.verify.publicKey must be a public KeyObject');
    return publicKey;
  }
  if (typeof publicKey !== 'string' && !Buffer.isBuffer(publicKey))
    fail('migration.verify.publicKey must be a PEM string, a Buffer or a KeyObject');
  try {
    return createPublicKey(publicKey);
  } catch {
    fail('migration.verify.publicKey is not a valid public key');
  }
}

function algorithmsFor(key: KeyObject, value: unknown): LegacyAlgorithm[] {
  if (!Array.isArray(value) || value.length === 0)
    fail('option "migration.verify.algorithms" must be a non-empty array (e.g. [\'HS256\'])');
  for (const algorithm of value) {
    if (typeof algorithm === 'string' && algorithm.toLowerCase() === 'none')
      fail('option "migration.verify.algorithms" must not include "none": an unsigned token proves nothing');
    const wanted = KEY_FOR[algorithm as LegacyAlgorithm];
    if (!wanted) fail(`migration.verify.algorithms: "${String(algorithm)}" is not supported`);
    const type = key.type === 'secret' ? 'secret' : key.asymmetricKeyType === 'rsa-pss' ? 'rsa' : key.asymmetricKeyType;
    if (type !== wanted.type || (wanted.curve && key.asymmetricKeyDetails?.namedCurve !== wanted.curve))
      fail(`migration.verify.algorithms: "${algorithm}" cannot be verified with the ${type} key given`);
  }
  return [...new Set(value as LegacyAlgorithm[])];
}

/** Checks the `migration` option; every error names the option. */
export function resolveMigration(value: unknown): ResolvedMigration {
  if (!value || typeof value !== 'object')
    fail('option "migration" must be { acceptUntil, maxTokenLifetime, verify: { secret | publicKey, algorithms } }');
  const migration = value as Record<string, unknown>;
  for (const key of Object.keys(migration))
    if (!['acceptUntil', 'maxTokenLifetime', 'verify'].includes(key)) fail(`unknown option "migration.${key}"`);
  const lifetime = migration.maxTokenLifetime;
  if (typeof lifetime !== 'number' || !Number.isSafeInteger(lifetime) || lifetime < 1)
    fail(`option "migration.maxTokenLifetime" must be a positive whole number of seconds, got ${String(lifetime)}`);
  if (!migration.verify || typeof migration.verify !== 'object') fail('option "migration.verify" is required');
  const verify = migration.verify as Record<string, unknown>;
  for (const key of Object.keys(verify))
    if (!['secret', 'publicKey', 'algorithms', 'issuer', 'audience'].includes(key))
      fail(`unknown option "migration.verify.${key}"`);
  const key = keyOf(verify);
  const { issuer, audience } = verify;
  if (issuer !== undefined && (typeof issuer !== 'string' || issuer === ''))
    fail('option "migration.verify.issuer" must be a non-empty string');
  const audiences = audience === undefined ? [] : Array.isArray(audience) ? audience : [audience];
  if (audiences.some((a) => typeof a !== 'string' || a === '') || (Array.isArray(audience) && audiences.length === 0))
    fail('option "migration.verify.audience" must be a non-empty string or a non-empty array of them');
  return {
    acceptUntil: acceptUntilOf(migration.acceptUntil),
    maxTokenLifetime: lifetime,
    key,
    algorithms: algorithmsFor(key, verify.algorithms),
    issuer: issuer as string | undefined,
    audience: audience as string | string[] | undefined,
  };
}

/**
 * How far back (seconds) a session or subject revocation can still kill a
 * token accepted at `now` (epoch ms): our tokens live `accessTokenTtl` at
 * most, old ones `maxTokenLifetime`, but only while the window is open.
 */
export function revocationLookBack(
  config: { accessTokenTtl: number; clockTolerance: number; migration?: ResolvedMigration },
  now: number,
): number {
  const legacy = config.migration && now < config.migration.acceptUntil ? config.migration.maxTokenLifetime : 0;
  return Math.max(config.accessTokenTtl, legacy) + config.clockTolerance;
}
