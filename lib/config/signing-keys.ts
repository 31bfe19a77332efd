import { createPrivateKey, createPublicKey, createSecretKey, KeyObject, sign, verify } from 'node:crypto';
import { fail } from '../errors/jwt-revocation-options.error.js';
import type {
  AsymmetricAlgorithm,
  HmacAlgorithm,
  KeySetOptions,
  SigningKeyOptions,
} from '../interfaces/jwt-revocation-module-options.interface.js';

export type JwtAlgorithm = HmacAlgorithm | AsymmetricAlgorithm;

export interface ResolvedSigning {
  algorithm: JwtAlgorithm;
  /** Signs new tokens. */
  signKey: KeyObject;
  /** Verifies tokens: a KeyObject, never a string (jsonwebtoken parses a string secret as a PEM first, on every request). */
  verifyKey: KeyObject;
  kid: string | undefined;
}

const HMAC_MIN_BYTES: Record<HmacAlgorithm, number> = { HS256: 32, HS384: 48, HS512: 64 };

function toKey(name: string, value: unknown, kind: 'private' | 'public'): KeyObject {
  if (value instanceof KeyObject) return value;
  if (typeof value !== 'string' && !Buffer.isBuffer(value))
    fail(`${name} must be a PEM string, a Buffer or a KeyObject`);
  try {
    return kind === 'private' ? createPrivateKey(value) : createPublicKey(value);
  } catch {
    fail(`${name} is not a valid ${kind} key`);
  }
}

function resolveHmac(signing: SigningKeyOptions & { secret?: unknown }, name: string): ResolvedSigning {
  const algorithm = (signing.algorithm ?? 'HS256') as HmacAlgorithm;
  if (!(algorithm in HMAC_MIN_BYTES))
    fail(`${name}.algorithm "${algorithm}" cannot be used with a secret (use HS256, HS384 or HS512)`);
  const secret = signing.secret;
  let key: KeyObject;
  if (secret instanceof KeyObject) {
    if (secret.type !== 'secret') fail(`${name}.secret must be a secret KeyObject`);
    key = secret;
  } else if (typeof secret === 'string' || Buffer.isBuffer(secret)) {
    key = createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret);
  } else {
    fail(`${name}.secret must be a string, a Buffer or a KeyObject`);
  }
  const size = key.symmetricKeySize ?? 0;
  // RFC 7518 3.2: an HMAC key must be at least as long as the hash output.
  if (size < HMAC_MIN_BYTES[algorithm]) {
    fail(`${name}.secret is ${size} bytes; ${algorithm} needs at least ${HMAC_MIN_BYTES[algorithm]} random bytes`);
  }
  return { algorithm, signKey: key, verifyKey: key, kid: signing.kid };
}

function resolveAsymmetric(
  signing: SigningKeyOptions & { privateKey?: unknown; publicKey?: unknown },
  name: string,
): ResolvedSigning {
  const algorithm = signing.algorithm as string;
  if (algorithm !== 'RS256' && algorithm !== 'ES256' && algorithm !== 'EdDSA')
    fail(`${name}.algorithm "${algorithm}" is not supported (HS256, HS384, HS512, RS256, ES256, EdDSA)`);
  if (typeof signing.kid !== 'string' || signing.kid.length === 0 || signing.kid.length > 64) {
    fail(`${name}.kid is required with an asymmetric key (1 to 64 characters)`);
  }
  const signKey = toKey(`${name}.privateKey`, signing.privateKey, 'private');
  const verifyKey =
    signing.publicKey === undefined
      ? createPublicKey(signKey)
      : toKey(`${name}.publicKey`, signing.publicKey, 'public');
  const details = signKey.asymmetricKeyDetails ?? {};
  if (algorithm === 'RS256' && (signKey.asymmetricKeyType !== 'rsa' || (details.modulusLength ?? 0) < 2048)) {
    fail(`${name}.privateKey must be an RSA key of at least 2048 bits for RS256`);
  }
  if (algorithm === 'ES256' && (signKey.asymmetricKeyType !== 'ec' || details.namedCurve !== 'prime256v1')) {
    fail(`${name}.privateKey must be a P-256 (prime256v1) key for ES256`);
  }
  if (algorithm === 'EdDSA' && signKey.asymmetricKeyType !== 'ed25519') {
    fail(`${name}.privateKey must be an Ed25519 key for EdDSA`);
  }
  // A public key that does not match would make every token fail: say so now. (Ed25519 hashes internally: no digest.)
  const probe = Buffer.from('jwt-revocation key check');
  const digest = algorithm === 'EdDSA' ? null : 'sha256';
  if (!verify(digest, probe, verifyKey, sign(digest, probe, signKey))) {
    fail(`${name}.publicKey does not match ${name}.privateKey`);
  }
  return { algorithm, signKey, verifyKey, kid: signing.kid };
}

function resolveKey(signing: unknown, name: string): ResolvedSigning {
  if (!signing || typeof signing !== 'object')
    fail(`option "${name}" must be { secret } or { algorithm, privateKey, kid }`);
  const s = signing as SigningKeyOptions & { secret?: unknown; privateKey?: unknown; publicKey?: unknown };
  const known = new Set(['algorithm', 'secret', 'privateKey', 'publicKey', 'kid']);
  for (const key of Object.keys(s)) if (!known.has(key)) fail(`unknown option "${name}.${key}"`);
  if (s.kid !== undefined && (typeof s.kid !== 'string' || s.kid.length === 0 || s.kid.length > 64)) {
    fail(`${name}.kid must be a string of 1 to 64 characters`);
  }
  if (s.secret !== undefined && (s.privateKey !== undefined || s.publicKey !== undefined)) {
    fail(`${name}.secret and ${name}.privateKey/publicKey contradict each other: give one of them`);
  }
  if (s.secret !== undefined) return resolveHmac(s, name);
  if (s.privateKey !== undefined) return resolveAsymmetric(s, name);
  fail(`option "${name}" needs a secret (HMAC) or a privateKey (RS256, ES256, EdDSA)`);
}

/** The signing keys, the current one first. */
export function resolveSigning(signing: unknown): ResolvedSigning[] {
  if (!signing || typeof signing !== 'object')
    fail('option "signing" is required: { secret } or { algorithm, privateKey, kid }');
  if (!('keys' in signing)) return [resolveKey(signing, 'signing')];
  const set = signing as KeySetOptions;
  for (const key of Object.keys(set)) if (key !== 'keys' && key !== 'current') fail(`unknown option "signing.${key}"`);
  if (!Array.isArray(set.keys) || set.keys.length === 0) fail('option "signing.keys" must be a non-empty array');
  const keys = set.keys.map((key, i) => resolveKey(key, `signing.keys[${i}]`));
  const kids = new Set<string>();
  keys.forEach((key, i) => {
    if (key.kid === undefined) fail(`signing.keys[${i}].kid is required in a key set`);
    if (kids.has(key.kid)) fail(`signing.keys[${i}].kid "${key.kid}" appears twice`);
    kids.add(key.kid);
  });
  const current = set.current ?? keys[0].kid;
  const first = keys.find((key) => key.kid === current);
  if (!first) fail(`signing.current "${String(set.current)}" names no key of signing.keys`);
  return [first, ...keys.filter((key) => key !== first)];
}
