import type { Type } from '@nestjs/common';
import type { TokenStore } from '../storage/token-store.interface.js';
import type { KeyObject } from 'node:crypto';
import type { RedisClientLike } from '../propagation/redis.bus.js';
import type { VerifiedToken } from './verified-token.interface.js';
import type { CookieModeOptions } from './cookie-mode-options.interface.js';
import type { CredentialFingerprintOptions } from './credential-fingerprint-options.interface.js';
import type { SlidingRenewalOptions } from './sliding-renewal-options.interface.js';

// The options of their own files, exported with the module's options (one import for an app).
export type { CookieModeOptions, CredentialFingerprintOptions, SlidingRenewalOptions };

export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512';
/** EdDSA means Ed25519 here (RFC 8037): the curve most new deployments choose. */
export type AsymmetricAlgorithm = 'RS256' | 'ES256' | 'EdDSA';

/** A shared secret (HMAC). At least 32 bytes, or bootstrap fails. */
export interface HmacSigningOptions {
  algorithm?: HmacAlgorithm;
  secret: string | Buffer | KeyObject;
  /** Optional key id written to the `kid` header. */
  kid?: string;
}

/** A key pair. The public key is derived from the private key when omitted. */
export interface AsymmetricSigningOptions {
  algorithm: AsymmetricAlgorithm;
  /** PEM, DER buffer or KeyObject. */
  privateKey: string | Buffer | KeyObject;
  publicKey?: string | Buffer | KeyObject;
  /** Key id written to the `kid` header; a token naming another kid is refused. */
  kid: string;
}

export type SigningKeyOptions = HmacSigningOptions | AsymmetricSigningOptions;

/**
 * Several keys, for rotation: `current` (default: the first) signs new
 * tokens, every key verifies the tokens naming its `kid`. Each key needs a
 * unique `kid`. `KeyRing.retire(kid)` drops a key at run time.
 */
export interface KeySetOptions {
  keys: SigningKeyOptions[];
  current?: string;
}

export type SigningOptions = SigningKeyOptions | KeySetOptions;

/** What the old signer may have used; `none` is not among them. */
export type LegacyAlgorithm =
  'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

/** How the tokens an app signed before adopting the module (with @nestjs/jwt or any signer) are verified. */
export interface LegacyVerifyOptions {
  /** The old HMAC secret (HS256, HS384, HS512). Give this or `publicKey`. */
  secret?: string | Buffer | KeyObject;
  /** The old signer's public key (RS*, PS*, ES*): PEM, DER buffer or KeyObject. */
  publicKey?: string | Buffer | KeyObject;
  /** The algorithms the old tokens use; any other, and `none`, is refused. */
  algorithms: LegacyAlgorithm[];
  /** Required on the old tokens when given. */
  issuer?: string;
  /** Required on the old tokens when given. */
  audience?: string | string[];
}

/**
 * A window in which the app's existing JWTs are still accepted, so adopting
 * the module logs nobody out. Off unless given. See README "Adopting it in an
 * app that already issues JWTs".
 */
export interface MigrationOptions {
  /**
   * Old tokens are accepted while `Date.now()` is before this: a Date, or an
   * ISO 8601 string (a date, or a date and time with `Z` or an offset).
   * Deploy time plus `maxTokenLifetime` is enough.
   */
  acceptUntil: Date | string;
  /**
   * The longest lifetime (`exp` - `iat`) the old signer gave its tokens,
   * seconds. An old token claiming more is refused, and revocations are
   * remembered that long while the window is open.
   */
  maxTokenLifetime: number;
  verify: LegacyVerifyOptions;
}

export type RevocationMode = 'denylist' | 'allowlist';

/** Where the guard looks for the access token. */
export interface TokenSourceOptions {
  /** `Authorization: Bearer <token>`. Default true. */
  header?: boolean;
  /**
   * Name of a cookie holding the token: read only, nothing sets it and no
   * cross-site check guards it (`cookies` does both). Default: none; in
   * cookie mode, the access cookie, and this must not be set.
   */
  cookie?: string;
}

/**
 * Options of `JwtRevocationModule.forRoot()` / the factory of `forRootAsync()`.
 * Every default lives in `JwtRevocationDefaults` (jwt-revocation.options.ts).
 */
export interface JwtRevocationModuleOptions {
  signing: SigningOptions;
  issuer?: string;
  audience?: string | string[];
  /** Access token lifetime, seconds. Default 900 (15 min). */
  accessTokenTtl?: number;
  /** Refresh token lifetime, seconds. Default 2 592 000 (30 days). */
  refreshTokenTtl?: number;
  /** Allowed clock skew for exp, nbf and iat, seconds. Default 5. */
  clockTolerance?: number;
  /**
   * 'denylist' (default): a valid token is accepted unless revoked.
   * 'allowlist': a valid token is accepted only if its jti is active in the token log.
   */
  mode?: RevocationMode;
  tokenFrom?: TokenSourceOptions;
  /** Cookie mode (HttpOnly access and refresh cookies, with the cross-site check). Off unless given. */
  cookies?: CookieModeOptions;
  /** Credential fingerprint in tokens, checked by the guard and on refresh. Off unless given. */
  credentialFingerprint?: CredentialFingerprintOptions;
  /** Sliding renewal of access tokens by the guard. Off unless given. */
  slidingRenewal?: SlidingRenewalOptions;
  /** Longest token accepted, characters; longer ones are refused before parsing. Default 8192. */
  maxTokenLength?: number;
  /**
   * Access tokens whose signature was checked, kept by their exact text so a
   * repeat skips decoding and the signature check (the claim rules, `exp`
   * among them, and the revocation check still run on every request). Only
   * verified tokens get in; the oldest leaves first. 0 turns it off.
   * Default 10 000 (a few MB at most).
   */
  verifiedTokenCacheSize?: number;
  /**
   * Seconds in which a spent refresh token is answered with the same new pair
   * (a retry after a lost response, two tabs at once) instead of counting as
   * reuse. 0 disables. Default 5.
   */
  refreshReuseGrace?: number;
  /** Absolute session lifetime, seconds: no refresh past `createdAt` + this. Default: none. */
  sessionMaxLifetime?: number;
  /** A session not seen for this many seconds cannot be refreshed. Default: none. */
  sessionIdleTimeout?: number;
  /**
   * Live sessions one subject may hold. A login past it revokes the oldest
   * (reason `session_limit`), so a script that logs in forever cannot grow
   * the log and the session list without bound. Default 100.
   */
  maxSessionsPerSubject?: number;
  /**
   * Redis for propagating revocations between instances: a URL, or an ioredis
   * client (the module subscribes on a duplicate of it). Needs the ioredis package.
   */
  redis?: string | RedisClientLike;
  /** 'auto' (default): Redis if given, else LISTEN/NOTIFY on PostgreSQL, else polling the database. */
  propagation?: 'auto' | 'redis' | 'notify' | 'poll';
  /** Seconds between catch-ups from the database, whatever the bus. Default 5. */
  syncInterval?: number;
  /**
   * Seconds the in-memory state is trusted without a catch-up that reached the
   * database. Past it, with `failClosed`, the guard answers 503. Default 30.
   */
  maxStaleness?: number;
  /**
   * Seconds a database call on the revocation path may take (catch-up, last-seen
   * flush, allowlist look-up, bus reconnect) before it counts as failed; a hung
   * connection then costs an attempt, never the next one. At most `maxStaleness`
   * minus `syncInterval`. Default 5, or that difference when it is less.
   */
  storeTimeout?: number;
  /** Reject (503, Retry-After) rather than accept possibly revoked tokens when the state is stale. Default true. */
  failClosed?: boolean;
  /** Seconds between scheduled archive sweeps; 0 turns the timer off (run `archiveExpired()` or the CLI yourself). Default 300. */
  archiveInterval?: number;
  /** Rows moved per transaction: bounds how long a sweep holds locks. Default 1000, at most 10000. */
  archiveBatchSize?: number;
  /** Seconds after its expiry before a row may leave the log; at least `clockTolerance`. Default 60. */
  archiveSafetyMargin?: number;
  /** Seconds after expiry after which archive rows are deleted. Default: kept forever. */
  archiveRetention?: number;
  /**
   * Seconds after which security events (the audit trail of revocations and
   * key retirements, `TokenLogService.securityEvents()`) are deleted by the
   * archive sweep. Default: kept forever.
   */
  securityEventRetention?: number;
  /**
   * Accept the app's existing JWTs (no `jti`, `sid`, `ver`, `typ: at+jwt`)
   * until `acceptUntil`. Off by default.
   */
  migration?: MigrationOptions;
  /** Reject tokens of deleted or blocked subjects. Return false (or throw an HttpException) to reject. */
  validateSubject?: (subject: string, token: VerifiedToken) => boolean | Promise<boolean>;
  /** How long a `validateSubject` answer is reused, seconds; 0 asks on every request. Default 30. */
  validateSubjectCacheTtl?: number;
  /** How often expired entries leave the in-memory revocation state, seconds. Default 60. */
  pruneInterval?: number;
  /** How often the sessions' "last seen" times are written to the database, seconds. Default 60. */
  lastSeenFlushInterval?: number;
  /** Allowlist mode: most database look-ups of unknown jtis in flight at once; past it, 503. Default 32. */
  allowlistLookupConcurrency?: number;
}

/** Names of the tables the module owns. */
export interface JwtRevocationTableNames {
  tokenLog: string;
  tokenArchive: string;
  session: string;
  subjectState: string;
  revocationEvent: string;
  securityEvent: string;
}

/**
 * Static extras of forRoot/forRootAsync: Nest and TypeORM need them while the
 * module is being defined, before any factory has run.
 */
export interface JwtRevocationModuleExtras {
  /** Register the module globally. Default false. */
  isGlobal?: boolean;
  /** Name of the TypeORM data source holding the tables. Default: the default data source. */
  dataSource?: string;
  tableNames?: Partial<JwtRevocationTableNames>;
  /**
   * A store of your own instead of the TypeORM one: a class extending
   * `TokenStore`, instantiated by Nest (it may inject your providers). It
   * must pass the store contract (`tokenStoreContract` in
   * `nestjs-jwt-revocation/testing`). With it the module registers no
   * entities and needs no data source; `dataSource` and `tableNames` do not
   * apply, and propagation is Redis or polling. `InMemoryTokenStore` (from
   * `/testing`) keeps everything in memory, for tests.
   */
  store?: Type<TokenStore>;
}
