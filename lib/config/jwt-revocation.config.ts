import { fail } from '../errors/jwt-revocation-options.error.js';
import type { JwtRevocationModuleOptions } from '../interfaces/jwt-revocation-module-options.interface.js';
import { resolveCookies, type ResolvedCookies } from './cookie-options.js';
import { resolveFingerprint, type ResolvedFingerprint } from './fingerprint-options.js';
import { JwtRevocationDefaults } from './jwt-revocation.defaults.js';
import { resolveMigration, type ResolvedMigration } from './migration-options.js';
import { resolveRenewal, type ResolvedRenewal } from './renewal-options.js';
import { resolveSigning, type ResolvedSigning } from './signing-keys.js';

const KNOWN_OPTIONS = new Set<string>([
  'signing',
  'redis',
  'issuer',
  'audience',
  'validateSubject',
  'migration',
  'cookies',
  'slidingRenewal',
  'credentialFingerprint',
  ...Object.keys(new JwtRevocationDefaults()),
]);

function positiveInteger(name: string, value: unknown, allowZero = false, unit = 'seconds'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
    fail(
      `option "${name}" must be a ${allowZero ? 'non-negative' : 'positive'} whole number of ${unit}, got ${String(value)}`,
    );
  }
  return value;
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
  /** The window for the app's existing tokens, when configured. */
  readonly migration?: ResolvedMigration;
  /** Cookie mode, when configured: cookie names and attributes, trusted origins. */
  readonly cookies?: ResolvedCookies;
  /** Sliding renewal, when configured. */
  readonly slidingRenewal?: ResolvedRenewal;
  /** The credential fingerprint's secret lookup and cache, when configured. */
  readonly credentialFingerprint?: ResolvedFingerprint;

  private constructor(options: JwtRevocationModuleOptions) {
    super();
    for (const key of Object.keys(options)) {
      if (!KNOWN_OPTIONS.has(key)) fail(`unknown option "${key}"`);
    }
    const explicit = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    Object.assign(this, explicit);
    this.keys = resolveSigning(options.signing);
    delete (this as { signing?: unknown }).signing;
    this.migration = options.migration === undefined ? undefined : resolveMigration(options.migration);
    this.cookies = options.cookies === undefined ? undefined : resolveCookies(options.cookies);
    this.credentialFingerprint =
      options.credentialFingerprint === undefined ? undefined : resolveFingerprint(options.credentialFingerprint);
    this.check(options);
    // After the checks: the threshold is checked against the access-token lifetime.
    this.slidingRenewal =
      options.slidingRenewal === undefined ? undefined : resolveRenewal(options.slidingRenewal, this.accessTokenTtl);
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
    positiveInteger('verifiedTokenCacheSize', this.verifiedTokenCacheSize, true, 'tokens');
    positiveInteger('validateSubjectCacheTtl', this.validateSubjectCacheTtl, true);
    positiveInteger('pruneInterval', this.pruneInterval);
    positiveInteger('lastSeenFlushInterval', this.lastSeenFlushInterval);
    positiveInteger('allowlistLookupConcurrency', this.allowlistLookupConcurrency);
    positiveInteger('refreshReuseGrace', this.refreshReuseGrace, true);
    positiveInteger('syncInterval', this.syncInterval);
    positiveInteger('maxStaleness', this.maxStaleness);
    if (this.maxStaleness <= this.syncInterval) {
      fail(
        `option "maxStaleness" (${this.maxStaleness}) must be longer than "syncInterval" (${this.syncInterval}): every catch-up would come too late`,
      );
    }
    // A catch-up starts up to syncInterval after the last one and must give up before the state goes stale.
    if (options.storeTimeout === undefined)
      this.storeTimeout = Math.min(this.storeTimeout, this.maxStaleness - this.syncInterval);
    positiveInteger('storeTimeout', this.storeTimeout);
    if (this.storeTimeout > this.maxStaleness - this.syncInterval) {
      fail(
        `option "storeTimeout" (${this.storeTimeout}) plus "syncInterval" (${this.syncInterval}) exceeds "maxStaleness" (${this.maxStaleness}): a catch-up still allowed to run would let the state go stale`,
      );
    }
    if (typeof this.failClosed !== 'boolean') fail('option "failClosed" must be true or false');
    if (!['auto', 'redis', 'notify', 'poll'].includes(this.propagation))
      fail(`option "propagation" must be 'auto', 'redis', 'notify' or 'poll', got ${String(this.propagation)}`);
    if (this.propagation === 'redis' && !this.redis) fail('option "propagation" is \'redis\' but "redis" is not set');
    if (
      this.redis !== undefined &&
      typeof this.redis !== 'string' &&
      typeof (this.redis as { duplicate?: unknown }).duplicate !== 'function'
    ) {
      fail('option "redis" must be a redis:// URL or an ioredis client');
    }
    if (typeof this.redis === 'string' && !/^rediss?:\/\//.test(this.redis))
      fail('option "redis" must be a redis:// or rediss:// URL');
    positiveInteger('archiveInterval', this.archiveInterval, true);
    positiveInteger('archiveBatchSize', this.archiveBatchSize);
    if (this.archiveBatchSize > 10_000)
      fail(`option "archiveBatchSize" (${this.archiveBatchSize}) is over 10000: a batch holds its locks that long`);
    positiveInteger('archiveSafetyMargin', this.archiveSafetyMargin, true);
    if (this.archiveSafetyMargin < this.clockTolerance) {
      fail(
        `option "archiveSafetyMargin" (${this.archiveSafetyMargin}) is below "clockTolerance" (${this.clockTolerance}): a token still accepted could leave the log`,
      );
    }
    if (this.archiveRetention !== undefined) positiveInteger('archiveRetention', this.archiveRetention);
    if (this.securityEventRetention !== undefined)
      positiveInteger('securityEventRetention', this.securityEventRetention);
    if (this.sessionMaxLifetime !== undefined) positiveInteger('sessionMaxLifetime', this.sessionMaxLifetime);
    if (this.sessionIdleTimeout !== undefined) positiveInteger('sessionIdleTimeout', this.sessionIdleTimeout);
    positiveInteger('maxSessionsPerSubject', this.maxSessionsPerSubject, false, 'sessions');
    if (this.sessionMaxLifetime !== undefined && this.sessionMaxLifetime < this.accessTokenTtl) {
      fail(
        `option "sessionMaxLifetime" (${this.sessionMaxLifetime}) is shorter than "accessTokenTtl" (${this.accessTokenTtl})`,
      );
    }
    if (this.refreshTokenTtl < this.accessTokenTtl) {
      fail(
        `option "refreshTokenTtl" (${this.refreshTokenTtl}) is shorter than "accessTokenTtl" (${this.accessTokenTtl})`,
      );
    }
    if (this.mode !== 'denylist' && this.mode !== 'allowlist')
      fail(`option "mode" must be 'denylist' or 'allowlist', got ${String(this.mode)}`);
    if (options.validateSubject !== undefined && typeof options.validateSubject !== 'function') {
      fail('option "validateSubject" must be a function');
    }
    if (options.validateSubjectCacheTtl !== undefined && options.validateSubject === undefined) {
      fail('option "validateSubjectCacheTtl" is set but "validateSubject" is not');
    }
    if (this.issuer !== undefined && (typeof this.issuer !== 'string' || this.issuer === ''))
      fail('option "issuer" must be a non-empty string');
    const audiences = this.audience === undefined ? [] : Array.isArray(this.audience) ? this.audience : [this.audience];
    if (audiences.some((a) => typeof a !== 'string' || a === ''))
      fail('option "audience" must be a non-empty string or an array of them');
    const source = { header: true, ...this.tokenFrom };
    for (const key of Object.keys(source))
      if (key !== 'header' && key !== 'cookie') fail(`unknown option "tokenFrom.${key}"`);
    if (
      source.cookie !== undefined &&
      (typeof source.cookie !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(source.cookie))
    ) {
      fail('option "tokenFrom.cookie" must be a cookie name');
    }
    if (this.cookies !== undefined) {
      if (source.cookie !== undefined)
        fail(
          'options "tokenFrom.cookie" and "cookies" are both set: in cookie mode the guard reads "cookies.accessCookieName"',
        );
      source.cookie = this.cookies.accessName;
    }
    if (!source.header && !source.cookie)
      fail('option "tokenFrom" turns the header off and names no cookie: no token could ever be read');
    this.tokenFrom = source;
  }
}
