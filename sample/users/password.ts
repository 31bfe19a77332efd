import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** log2 of scrypt's N the sample accepts: below 10 is too cheap to matter, above 20 takes a GiB per hash. */
export const MIN_HASH_COST = 10;
export const MAX_HASH_COST = 20;
/** OWASP's recommendation for scrypt: N = 2^17, r = 8, p = 1. */
export const DEFAULT_HASH_COST = 17;

/** log2 of scrypt's N for new hashes, from SampleConfig.passwordHashCost. */
export const PASSWORD_HASH_COST = Symbol('PASSWORD_HASH_COST');

/** scrypt's cost parameters: N = 2^ln, block size r, parallelism p. */
export interface ScryptParams {
  ln: number;
  r: number;
  p: number;
}

/**
 * Node's key derivation and constant-time comparison, called through this
 * object so that tests can watch them: how many scrypt runs a login costs,
 * and that the hash comparison is timingSafeEqual's.
 */
export const passwordCrypto = { scrypt, timingSafeEqual };

const KEY_LENGTH = 64;
const SALT_LENGTH = 16;
/** Hashes written before the parameters were stored (`scrypt$<salt>$<hash>`) used Node's defaults. */
const LEGACY: ScryptParams = { ln: 14, r: 8, p: 1 };
/** 128 * N * r bytes at the largest cost: a stored hash asking for more is refused, not allocated. */
const MAX_MEMORY = 128 * 2 ** MAX_HASH_COST * 8;

export function scryptParams(cost: number): ScryptParams {
  if (!Number.isSafeInteger(cost) || cost < MIN_HASH_COST || cost > MAX_HASH_COST) {
    throw new RangeError(
      `password hash cost must be a whole number from ${MIN_HASH_COST} to ${MAX_HASH_COST} (log2 of scrypt's N), got ${cost}`,
    );
  }
  return { ln: cost, r: 8, p: 1 };
}

function derive(password: string, salt: Buffer, length: number, { ln, r, p }: ScryptParams): Promise<Buffer> {
  const N = 2 ** ln;
  // Node refuses more than 32 MiB by default; N = 2^17, r = 8 needs 128 MiB. Twice 128 * N * r leaves
  // room for OpenSSL's small buffers. libuv's thread pool (4 threads) bounds how many run at once.
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r };
  return new Promise((resolve, reject) =>
    passwordCrypto.scrypt(password, salt, length, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** `scrypt$ln=17,r=8,p=1$<salt>$<hash>`, base64url: the parameters travel with the hash, so they can change. */
export async function hashPassword(password: string, params: ScryptParams): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const hash = await derive(password, salt, KEY_LENGTH, params);
  return format(params, salt, hash);
}

function format({ ln, r, p }: ScryptParams, salt: Buffer, hash: Buffer): string {
  return `scrypt$ln=${ln},r=${r},p=${p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const PARAMS = /^ln=([0-9]{1,2}),r=([0-9]{1,2}),p=([0-9]{1,2})$/;

interface StoredHash {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

/** The parts of a stored hash, or null for anything this code did not write or could not afford to check. */
function parse(stored: unknown): StoredHash | null {
  if (typeof stored !== 'string') return null;
  const parts = stored.split('$');
  let params: ScryptParams;
  let salt: string;
  let hash: string;
  if (parts.length === 3) {
    [, salt, hash] = parts;
    params = LEGACY;
  } else if (parts.length === 4) {
    const match = PARAMS.exec(parts[1]);
    if (!match) return null;
    params = { ln: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
    [, , salt, hash] = parts;
  } else {
    return null;
  }
  if (parts[0] !== 'scrypt' || !BASE64URL.test(salt) || !BASE64URL.test(hash)) return null;
  const { ln, r, p } = params;
  // Bounds on what a row may ask for: a tampered or corrupt row must not cost a GiB or a minute.
  if (ln < 1 || ln > MAX_HASH_COST || r < 1 || p < 1 || p > 4 || 128 * 2 ** ln * r > MAX_MEMORY) return null;
  const key = Buffer.from(hash, 'base64url');
  if (key.length < 16 || key.length > 128) return null;
  return { params, salt: Buffer.from(salt, 'base64url'), hash: key };
}

/** Compares in constant time. A malformed stored hash never matches, and never throws. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed) return false;
  const actual = await derive(password, parsed.salt, parsed.hash.length, parsed.params);
  return actual.length === parsed.hash.length && passwordCrypto.timingSafeEqual(actual, parsed.hash);
}

/**
 * Whether a stored hash should be replaced, after a successful check, by one
 * with `current`: it is weaker in some parameter. Never a downgrade: with a
 * cost lowered for a small machine, stronger hashes stay as they are.
 */
export function needsRehash(stored: string, current: ScryptParams): boolean {
  const parsed = parse(stored);
  if (!parsed) return false;
  const { ln, r, p } = parsed.params;
  return ln < current.ln || r < current.r || p < current.p;
}

/**
 * Spent on unknown usernames, so a login takes as long whether or not the
 * user exists: hence the current parameters, never matched by any password.
 */
export function dummyHash(params: ScryptParams): string {
  return format(params, randomBytes(SALT_LENGTH), randomBytes(KEY_LENGTH));
}
