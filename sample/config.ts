import { Logger } from '@nestjs/common';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { dataSourceOptionsFromUrl, type SigningOptions } from 'nestjs-jwt-revocation';
import { DEFAULT_HASH_COST, MAX_HASH_COST, MIN_HASH_COST } from './users/password.js';

export interface SampleConfig {
  port: number;
  database: TypeOrmModuleOptions;
  jwtSecret: string;
  /** PEM of an Ed25519 private key (JWT_PRIVATE_KEY): tokens are then signed with EdDSA, and JWT_SECRET is not used. */
  jwtPrivateKey?: string;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  /** Seconds in which a spent refresh token gets the same new pair again; 0 disables. */
  refreshReuseGrace: number;
  /** Redis for propagating revocations between instances; unset: LISTEN/NOTIFY on PostgreSQL, else polling. */
  redisUrl?: string;
  /** How instances tell each other: auto (Redis if REDIS_URL, else LISTEN/NOTIFY on PostgreSQL, else polling), redis, notify, poll. */
  propagation: 'auto' | 'redis' | 'notify' | 'poll';
  /** Seconds between catch-ups from the database. */
  syncInterval: number;
  /** Seconds the revocation state is trusted without a catch-up; then 503 (FAIL_CLOSED, default true). */
  maxStaleness: number;
  failClosed: boolean;
  /** Login, register, refresh and change-password attempts allowed per client IP per minute. */
  authRateLimit: number;
  /** Change-password attempts allowed per account per minute; default in SAMPLE_DEFAULTS. */
  passwordRateLimit?: number;
  /** POST /oauth/revoke calls allowed per client IP per minute; default in SAMPLE_DEFAULTS. */
  revokeRateLimit?: number;
  /** log2 of scrypt's N for new password hashes (r = 8, p = 1), 10 to 20; default in SAMPLE_DEFAULTS. */
  passwordHashCost?: number;
  /** Seconds a session lives from its login, refreshes or not; default in SAMPLE_DEFAULTS. */
  sessionMaxLifetime?: number;
  /** Seconds without a request after which a session can no longer be refreshed; default in SAMPLE_DEFAULTS. */
  sessionIdleTimeout?: number;
  /**
   * Seconds before its exp from which a request renews the access token
   * (sliding renewal); 0: off. Default a third of the access-token lifetime,
   * off when that is under a second.
   */
  renewalThreshold?: number;
  /** Bearer token GET /metrics asks of a scraper (METRICS_TOKEN); null: only this host's loopback may scrape. */
  metricsToken?: string | null;
  /** Who may call POST /oauth/introspect (HTTP Basic); null: nobody. */
  introspectionClient: { id: string; secret: string } | null;
  /**
   * The session cookies' Secure attribute (COOKIE_SECURE, default true).
   * Browsers take Secure cookies from http://localhost too; false only to try
   * the pages over plain HTTP on another host name.
   */
  cookieSecure?: boolean;
}

/**
 * Settings a SampleConfig may leave out (configFromEnv always sets them): the
 * one place their defaults live.
 */
export const SAMPLE_DEFAULTS = {
  // Each try is a password check: a handful a minute is plenty for a person who mistyped.
  passwordRateLimit: 5,
  // An app revokes a token or two per logout; more from one address is a flood of database writes.
  revokeRateLimit: 30,
  // OWASP's scrypt recommendation (N = 2^17): about 128 MiB and a few hundred ms per hash.
  passwordHashCost: DEFAULT_HASH_COST,
  // A login is good for 30 days at most (as long as a refresh token), and a
  // device left unused for a week must log in again: a stolen refresh token
  // from a forgotten laptop does not live on for ever.
  sessionMaxLifetime: 2_592_000,
  sessionIdleTimeout: 604_800,
} as const;

/**
 * `sqlite:<file>` (default `sqlite:data/sample.sqlite`), `postgres://...`, `mysql://...` or `mariadb://...`.
 *
 * A server that accepts connections and never answers would otherwise hold
 * every call, and its pooled connection, for ever. node-postgres: the pool
 * waits `connectTimeoutMS` for a connection, the server cancels a statement
 * after `statement_timeout`, the client gives up after `query_timeout` (a
 * little later, so that a server that answers says why). mysql2: the
 * handshake is bounded by `connectTimeout`, and TypeORM hands
 * `maxQueryExecutionTime` to each query as its timeout (`enableQueryTimeout`).
 */
export function databaseOptions(url: string): TypeOrmModuleOptions {
  const options = dataSourceOptionsFromUrl(url);
  const timeouts =
    options.type === 'postgres'
      ? { connectTimeoutMS: 5000, extra: { statement_timeout: 5000, query_timeout: 6000 } }
      : options.type === 'mysql' || options.type === 'mariadb'
        ? { connectTimeout: 5000, enableQueryTimeout: true, maxQueryExecutionTime: 6000 }
        : { prepareDatabase: sqliteWal };
  return { ...options, ...timeouts, autoLoadEntities: true, synchronize: true } as TypeOrmModuleOptions;
}

/**
 * SQLite in WAL mode with synchronous=NORMAL (README, "SQLite: WAL"): a
 * commit appends to the log and does not wait for the disk, where the default
 * rollback journal syncs the file several times per transaction, and logins
 * are transactions. A commit survives the app crashing; a power cut may lose
 * the last ones, never corrupt the file. TypeORM runs this when it opens the
 * file (`prepareDatabase`, in TypeORM 0.3 and 1); better-sqlite3 already waits
 * 5 s on a locked file (its `timeout`, SQLite's busy_timeout).
 */
export function sqliteWal(db: { pragma(source: string): unknown }): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
}

function seconds(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed <= 0)
    throw new Error(`${name} must be a positive whole number of seconds`);
  return parsed;
}

function perMinute(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed <= 0)
    throw new Error(`${name} must be a positive whole number of attempts per minute`);
  return parsed;
}

function hashCost(value: string | undefined): number {
  if (value === undefined || value === '') return SAMPLE_DEFAULTS.passwordHashCost;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < MIN_HASH_COST || parsed > MAX_HASH_COST) {
    throw new Error(
      `PASSWORD_HASH_COST must be a whole number from ${MIN_HASH_COST} to ${MAX_HASH_COST} (log2 of scrypt's N; ${DEFAULT_HASH_COST}, the default, is OWASP's recommendation)`,
    );
  }
  return parsed;
}

function propagationOf(value: string | undefined): SampleConfig['propagation'] {
  if (value === undefined || value === '') return 'auto';
  if (value === 'auto' || value === 'redis' || value === 'notify' || value === 'poll') return value;
  throw new Error('PROPAGATION must be auto, redis, notify or poll');
}

/**
 * The module's `signing` option: EdDSA with JWT_PRIVATE_KEY when given, named
 * by its RFC 7638 thumbprint (a new key gets a new kid by itself), else HS256
 * with JWT_SECRET.
 */
/**
 * The module's `slidingRenewal` for a config: RENEWAL_THRESHOLD, else a third
 * of the access-token lifetime (5 minutes of 15: an active page gets a new
 * token at most every 10 minutes and never needs a refresh); off for 0 and
 * for lifetimes under 3 s.
 */
export function renewalOf(
  config: Pick<SampleConfig, 'accessTokenTtl' | 'renewalThreshold'>,
): { threshold: number } | undefined {
  const threshold = config.renewalThreshold ?? Math.floor(config.accessTokenTtl / 3);
  return threshold > 0 ? { threshold } : undefined;
}

/** METRICS_TOKEN: unset for none, else at least 16 characters (a scraper's secret, not a word). */
function metricsTokenOf(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  if (value.length < 16) throw new Error('METRICS_TOKEN must be at least 16 characters');
  return value;
}

export function signingOf(config: Pick<SampleConfig, 'jwtSecret' | 'jwtPrivateKey'>): SigningOptions {
  if (config.jwtPrivateKey === undefined) return { secret: config.jwtSecret };
  const { crv, kty, x } = createPublicKey(config.jwtPrivateKey).export({ format: 'jwk' });
  const kid = createHash('sha256').update(JSON.stringify({ crv, kty, x })).digest('base64url');
  return { algorithm: 'EdDSA', privateKey: config.jwtPrivateKey, kid };
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): SampleConfig {
  let jwtSecret = env.JWT_SECRET ?? '';
  if (!jwtSecret && !env.JWT_PRIVATE_KEY) {
    jwtSecret = randomBytes(32).toString('base64url');
    new Logger('Sample').warn('JWT_SECRET is not set: using a random secret, so tokens die with this process');
  }
  return {
    port: seconds('PORT', env.PORT, 3000),
    database: databaseOptions(env.DATABASE_URL || 'sqlite:data/sample.sqlite'),
    jwtSecret,
    jwtPrivateKey: env.JWT_PRIVATE_KEY || undefined,
    accessTokenTtl: seconds('ACCESS_TOKEN_TTL', env.ACCESS_TOKEN_TTL, 900),
    refreshTokenTtl: seconds('REFRESH_TOKEN_TTL', env.REFRESH_TOKEN_TTL, 2_592_000),
    refreshReuseGrace: env.REFRESH_REUSE_GRACE === '0' ? 0 : seconds('REFRESH_REUSE_GRACE', env.REFRESH_REUSE_GRACE, 5),
    authRateLimit: perMinute('AUTH_RATE_LIMIT', env.AUTH_RATE_LIMIT, 30),
    passwordRateLimit: perMinute('PASSWORD_RATE_LIMIT', env.PASSWORD_RATE_LIMIT, SAMPLE_DEFAULTS.passwordRateLimit),
    revokeRateLimit: perMinute('REVOKE_RATE_LIMIT', env.REVOKE_RATE_LIMIT, SAMPLE_DEFAULTS.revokeRateLimit),
    passwordHashCost: hashCost(env.PASSWORD_HASH_COST),
    sessionMaxLifetime: seconds('SESSION_MAX_LIFETIME', env.SESSION_MAX_LIFETIME, SAMPLE_DEFAULTS.sessionMaxLifetime),
    sessionIdleTimeout: seconds('SESSION_IDLE_TIMEOUT', env.SESSION_IDLE_TIMEOUT, SAMPLE_DEFAULTS.sessionIdleTimeout),
    redisUrl: env.REDIS_URL || undefined,
    propagation: propagationOf(env.PROPAGATION),
    syncInterval: seconds('SYNC_INTERVAL', env.SYNC_INTERVAL, 5),
    maxStaleness: seconds('MAX_STALENESS', env.MAX_STALENESS, 30),
    failClosed: env.FAIL_CLOSED !== 'false',
    cookieSecure: env.COOKIE_SECURE !== 'false',
    renewalThreshold:
      env.RENEWAL_THRESHOLD === '0' ? 0 : seconds('RENEWAL_THRESHOLD', env.RENEWAL_THRESHOLD, 0) || undefined,
    metricsToken: metricsTokenOf(env.METRICS_TOKEN),
    introspectionClient:
      env.INTROSPECTION_CLIENT_ID && env.INTROSPECTION_CLIENT_SECRET
        ? { id: env.INTROSPECTION_CLIENT_ID, secret: env.INTROSPECTION_CLIENT_SECRET }
        : null,
  };
}
