import { createPrivateKey, createPublicKey, createSecretKey, KeyObject, sign, verify } from 'node:crypto';
import type {
  AsymmetricAlgorithm,
  HmacAlgorithm,
  JwtRevocationModuleOptions,
  RevocationMode,
  KeySetOptions,
  SigningKeyOptions,
  TokenSourceOptions,
} from '../interfaces/jwt-revocation-module-options.interface.js';

/** Every default in one place (nestjs-cls style): forRoot merges the user's options over these. */
export class JwtRevocationDefaults {
  accessTokenTtl = 900;
  refreshTokenTtl = 2_592_000;
  clockTolerance = 5;
  mode: RevocationMode = 'denylist';
  tokenFrom: TokenSourceOptions = { header: true };
  maxTokenLength = 8192;
  validateSubjectCacheTtl = 30;
  pruneInterval = 60;
  lastSeenFlushInterval = 60;
  allowlistLookupConcurrency = 32;
  refreshReuseGrace = 5;
  sessionMaxLifetime: number | undefined = undefined;
  sessionIdleTimeout: number | undefined = undefined;
  maxSessionsPerSubject = 100;
  propagation: 'auto' | 'redis' | 'notify' | 'poll' = 'auto';
  syncInterval = 5;
  maxStaleness = 30;
  /** Lowered to maxStaleness - syncInterval when that is less and the option is not given. */
  storeTimeout = 5;
  failClosed = true;
  archiveInterval = 300;
  archiveBatchSize = 1000;
  archiveSafetyMargin = 60;
  archiveRetention: number | undefined = undefined;
}

export type JwtAlgorithm = HmacAlgorithm | AsymmetricAlgorithm;

export interface ResolvedSigning {
  algorithm: JwtAlgorithm;
  /** Signs new tokens. */
  signKey: KeyObject;
  /** Verifies tokens: a KeyObject, never a string (jsonwebtoken parses a string secret as a PEM first, on every request). */
  verifyKey: KeyObject;
  kid: string | undefined;
}

const KNOWN_OPTIONS = new Set<string>([
  'signing',
  'redis',
  'issuer',
  'audience',
  'validateSubject',
  ...Object.keys(new JwtRevocationDefaults()),
]);

const HMAC_MIN_BYTES: Record<HmacAlgorithm, number> = { HS256: 32, HS384: 48, HS512: 64 };

export class JwtRevocationOptionsError extends Error {
  constructor(message: string) {
    super(`JwtRevocationModule: ${message}`);
    this.name = 'JwtRevocationOptionsError';
  }
}

function fail(message: string): never {
  throw new JwtRevocationOptionsError(message);
}

function positiveInteger(name: string, value: unknown, allowZero = false, unit = 'seconds'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    fail(`option "${name}" must be a ${allowZero ? 'non-negative' : 'positive'} whole number of ${unit}, got ${String(value)}`);
  }
  return value;
}

function toKey(name: string, value: unknown, kind: 'private' | 'public'): KeyObject {
  if (value instanceof KeyObject) return value;
  if (typeof value !== 'string' && !Buffer.isBuffer(value)) fail(`${name} must be a PEM string, a Buffer or a KeyObject`);
  try {
    return kind === 'private' ? createPrivateKey(value) : createPublicKey(value);
  } catch {
    fail(`${name} is not a valid ${kind} key`);
  }
}

function resolveHmac(signing: SigningKeyOptions & { secret?: unknown }, name: string): ResolvedSigning {
  const algorithm = (signing.algorithm ?? 'HS256') as HmacAlgorithm;
  if (!(algorithm in HMAC_MIN_BYTES)) fail(`${name}.algorithm "${algorithm}" cannot be used with a secret (use HS256, HS384 or HS512)`);
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

function resolveAsymmetric(signing: SigningKeyOptions & { privateKey?: unknown; publicKey?: unknown }, name: string): ResolvedSigning {
  const algorithm = signing.algorithm as string;
  if (algorithm === 'EdDSA') {
    fail(`${name}.algorithm "EdDSA" is not supported: passport-jwt verifies with jsonwebtoken 9, which has no EdDSA. Use ES256 or RS256`);
  }
  if (algorithm !== 'RS256' && algorithm !== 'ES256') fail(`${name}.algorithm "${algorithm}" is not supported (HS256, HS384, HS512, RS256, ES256)`);
  if (typeof signing.kid !== 'string' || signing.kid.length === 0 || signing.kid.length > 64) {
    fail(`${name}.kid is required with an asymmetric key (1 to 64 characters)`);
  }
  const signKey = toKey(`${name}.privateKey`, signing.privateKey, 'private');
  const verifyKey = signing.publicKey === undefined ? createPublicKey(signKey) : toKey(`${name}.publicKey`, signing.publicKey, 'public');
  const details = signKey.asymmetricKeyDetails ?? {};
  if (algorithm === 'RS256' && (signKey.asymmetricKeyType !== 'rsa' || (details.modulusLength ?? 0) < 2048)) {
    fail(`${name}.privateKey must be an RSA key of at least 2048 bits for RS256`);
  }
  if (algorithm === 'ES256' && (signKey.asymmetricKeyType !== 'ec' || details.namedCurve !== 'prime256v1')) {
    fail(`${name}.privateKey must be a P-256 (prime256v1) key for ES256`);
  }
  // A public key that does not match would make every token fail: say so now.
  const probe = Buffer.from('jwt-revocation key check');
  if (!verify('sha256', probe, verifyKey, sign('sha256', probe, signKey))) {
    fail(`${name}.publicKey does not match ${name}.privateKey`);
  }
  return { algorithm, signKey, verifyKey, kid: signing.kid };
}

function resolveKey(signing: unknown, name: string): ResolvedSigning {
  if (!signing || typeof signing !== 'object') fail(`option "${name}" must be { secret } or { algorithm, privateKey, kid }`);
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
  fail(`option "${name}" needs a secret (HMAC) or a privateKey (RS256, ES256)`);
}

/** The signing keys, the current one first. */
function resolveSigning(signing: unknown): ResolvedSigning[] {
  if (!signing || typeof signing !== 'object') fail('option "signing" is required: { secret } or { algorithm, privateKey, kid }');
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

/**
 * The module's options after defaults and checks: what every provider reads.
 * Built once at bootstrap; a wrong option stops the app here, naming it.
 */
export class JwtRevocationConfig extends JwtRevocationDefaults {
  /** The signing keys as configured, the current one first. `KeyRing` holds them at run time. */
  readonly keys: ResolvedSigning[];
  readonly issuer?: string;
  readonly audience?: string | string[];
  readonly validateSubject?: JwtRevocationModuleOptions['validateSubject'];
  readonly redis?: JwtRevocationModuleOptions['redis'];

  private constructor(options: JwtRevocationModuleOptions) {
    super();
    for (const key of Object.keys(options)) {
      if (!KNOWN_OPTIONS.has(key)) fail(`unknown option "${key}"`);
    }
    const explicit = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    Object.assign(this, explicit);
    this.keys = resolveSigning(options.signing);
    delete (this as { signing?: unknown }).signing;
    this.check(options);
  }

  static from(options: JwtRevocationModuleOptions | undefined): JwtRevocationConfig {
    if (!options || typeof options !== 'object') fail('options are required');
    return new JwtRevocationConfig(options);
  }

  private check(options: JwtRevocationModuleOptions): void {
    positiveInteger('accessTokenTtl', this.accessTokenTtl);
    positiveInteger('refreshTokenTtl', this.refreshTokenTtl);
    positiveInteger('clockTolerance', this.clockTolerance, true);
    positiveInteger('maxTokenLength', this.maxTokenLength);
    positiveInteger('validateSubjectCacheTtl', this.validateSubjectCacheTtl, true);
    positiveInteger('pruneInterval', this.pruneInterval);
    positiveInteger('lastSeenFlushInterval', this.lastSeenFlushInterval);
    positiveInteger('allowlistLookupConcurrency', this.allowlistLookupConcurrency);
    positiveInteger('refreshReuseGrace', this.refreshReuseGrace, true);
    positiveInteger('syncInterval', this.syncInterval);
    positiveInteger('maxStaleness', this.maxStaleness);
    if (this.maxStaleness <= this.syncInterval) {
      fail(`option "maxStaleness" (${this.maxStaleness}) must be longer than "syncInterval" (${this.syncInterval}): every catch-up would come too late`);
    }
    // A catch-up starts up to syncInterval after the last one and must give up before the state goes stale.
    if (options.storeTimeout === undefined) this.storeTimeout = Math.min(this.storeTimeout, this.maxStaleness - this.syncInterval);
    positiveInteger('storeTimeout', this.storeTimeout);
    if (this.storeTimeout > this.maxStaleness - this.syncInterval) {
      fail(`option "storeTimeout" (${this.storeTimeout}) plus "syncInterval" (${this.syncInterval}) exceeds "maxStaleness" (${this.maxStaleness}): a catch-up still allowed to run would let the state go stale`);
    }
    if (typeof this.failClosed !== 'boolean') fail('option "failClosed" must be true or false');
    if (!['auto', 'redis', 'notify', 'poll'].includes(this.propagation)) fail(`option "propagation" must be 'auto', 'redis', 'notify' or 'poll', got ${String(this.propagation)}`);
    if (this.propagation === 'redis' && !this.redis) fail('option "propagation" is \'redis\' but "redis" is not set');
    if (this.redis !== undefined && typeof this.redis !== 'string' && typeof (this.redis as { duplicate?: unknown }).duplicate !== 'function') {
      fail('option "redis" must be a redis:// URL or an ioredis client');
    }
    if (typeof this.redis === 'string' && !/^rediss?:\/\//.test(this.redis)) fail('option "redis" must be a redis:// or rediss:// URL');
    positiveInteger('archiveInterval', this.archiveInterval, true);
    positiveInteger('archiveBatchSize', this.archiveBatchSize);
    if (this.archiveBatchSize > 10_000) fail(`option "archiveBatchSize" (${this.archiveBatchSize}) is over 10000: a batch holds its locks that long`);
    positiveInteger('archiveSafetyMargin', this.archiveSafetyMargin, true);
    if (this.archiveSafetyMargin < this.clockTolerance) {
      fail(`option "archiveSafetyMargin" (${this.archiveSafetyMargin}) is below "clockTolerance" (${this.clockTolerance}): a token still accepted could leave the log`);
    }
    if (this.archiveRetention !== undefined) positiveInteger('archiveRetention', this.archiveRetention);
    if (this.sessionMaxLifetime !== undefined) positiveInteger('sessionMaxLifetime', this.sessionMaxLifetime);
    if (this.sessionIdleTimeout !== undefined) positiveInteger('sessionIdleTimeout', this.sessionIdleTimeout);
    positiveInteger('maxSessionsPerSubject', this.maxSessionsPerSubject, false, 'sessions');
    if (this.sessionMaxLifetime !== undefined && this.sessionMaxLifetime < this.accessTokenTtl) {
      fail(`option "sessionMaxLifetime" (${this.sessionMaxLifetime}) is shorter than "accessTokenTtl" (${this.accessTokenTtl})`);
    }
    if (this.refreshTokenTtl < this.accessTokenTtl) {
      fail(`option "refreshTokenTtl" (${this.refreshTokenTtl}) is shorter than "accessTokenTtl" (${this.accessTokenTtl})`);
    }
    if (this.mode !== 'denylist' && this.mode !== 'allowlist') fail(`option "mode" must be 'denylist' or 'allowlist', got ${String(this.mode)}`);
    if (options.validateSubject !== undefined && typeof options.validateSubject !== 'function') {
      fail('option "validateSubject" must be a function');
    }
    if (options.validateSubjectCacheTtl !== undefined && options.validateSubject === undefined) {
      fail('option "validateSubjectCacheTtl" is set but "validateSubject" is not');
    }
    if (this.issuer !== undefined && (typeof this.issuer !== 'string' || this.issuer === '')) fail('option "issuer" must be a non-empty string');
    const audiences = this.audience === undefined ? [] : Array.isArray(this.audience) ? this.audience : [this.audience];
    if (audiences.some((a) => typeof a !== 'string' || a === '')) fail('option "audience" must be a non-empty string or an array of them');
    const source = { header: true, ...this.tokenFrom };
    for (const key of Object.keys(source)) if (key !== 'header' && key !== 'cookie') fail(`unknown option "tokenFrom.${key}"`);
    if (source.cookie !== undefined && (typeof source.cookie !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(source.cookie))) {
      fail('option "tokenFrom.cookie" must be a cookie name');
    }
    if (!source.header && !source.cookie) fail('option "tokenFrom" turns the header off and names no cookie: no token could ever be read');
    this.tokenFrom = source;
  }
}
