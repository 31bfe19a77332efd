import type { RevocationMode, TokenSourceOptions } from '../interfaces/jwt-revocation-module-options.interface.js';

/** Every default in one place (nestjs-cls style): forRoot merges the user's options over these. */
export class JwtRevocationDefaults {
  accessTokenTtl = 900;
  refreshTokenTtl = 2_592_000;
  clockTolerance = 5;
  mode: RevocationMode = 'denylist';
  tokenFrom: TokenSourceOptions = { header: true };
  maxTokenLength = 8192;
  verifiedTokenCacheSize = 10_000;
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
  securityEventRetention: number | undefined = undefined;
}
