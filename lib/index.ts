// The public API: what an app needs to use the module. Test helpers and the
// module's internals are under `nestjs-jwt-revocation/testing`.

// The module and its options
export { JwtRevocationModule } from './jwt-revocation.module.js';
export { JWT_REVOCATION_MODULE_OPTIONS } from './jwt-revocation.module-definition.js';
export type * from './interfaces/jwt-revocation-module-options.interface.js';
export { ACCESS_TOKEN_TYP, DEFAULT_TABLE_NAMES, JWT_REVOCATION_STRATEGY } from './jwt-revocation.constants.js';

// The request path: guard and decorators
export { RevocableJwtGuard } from './request/revocable-jwt.guard.js';
export { AccessTokenCheck } from './request/access-token-check.js';
export { SessionCookies } from './request/session-cookies.js';
export { AccessRenewal, type RenewedAccess } from './tokens/access-renewal.js';
export { CsrfGuard } from './request/csrf.guard.js';
export { clientOf } from './request/request-client.js';
export {
  AllowCrossSite,
  CurrentSubject,
  CurrentToken,
  Logout,
  LogoutAll,
  Public,
} from './request/jwt-revocation.decorators.js';
export type * from './interfaces/verified-token.interface.js';

// Tokens: issue, refresh, revoke, look up; keys; events
export { TokenLogService } from './tokens/token-log.service.js';
export { KeyRing } from './tokens/key-ring.js';
export { TokenEvents, type TokenEvent, type TokenEventListener } from './tokens/token-events.js';
export type * from './interfaces/issued-tokens.interface.js';
export type * from './interfaces/token-record.interface.js';
export { REVOKE_REASONS, type RevokeReason } from './interfaces/revoke-reason.type.js';

// Several instances: health and the propagation types
export { RevocationHealthIndicator } from './propagation/revocation-health.indicator.js';
export type { SyncStatus } from './propagation/revocation-sync.js';
export type { RedisClientLike } from './propagation/redis.bus.js';
export type { PropagationMode } from './propagation/revocation-bus.interface.js';
export type { RevocationEvent } from './interfaces/revocation-event.interface.js';
export {
  SECURITY_EVENT_TYPES,
  type SecurityClient,
  type SecurityEvent,
  type SecurityEventPage,
  type SecurityEventType,
} from './interfaces/security-event.interface.js';

// Observability: OpenTelemetry metric names (the app brings @opentelemetry/api and an SDK)
export { METRIC_NAMES, type RefusalCause, type SweepOutcome } from './telemetry/jwt-revocation.metrics.js';

// Storage: the seam for another store, and the TypeORM entities
export { TokenStore } from './storage/token-store.interface.js';
export type * from './storage/token-store.interface.js';
export { jwtRevocationEntities } from './storage/typeorm/entities/jwt-revocation.entities.js';
export { dataSourceOptionsFromUrl } from './storage/typeorm/database-url.js';

// The archive
export type { ArchiveOptions, ArchiveResult } from './archive/archive-sweeper.js';

// Errors, each with a stable class to match on
export { JwtRevocationOptionsError } from './errors/jwt-revocation-options.error.js';
export { InvalidTokenException } from './errors/invalid-token.exception.js';
export { StaleStateException } from './errors/stale-state.exception.js';
export { StoreTimeoutError } from './errors/store-timeout.error.js';
export { CredentialsChangedException } from './errors/credentials-changed.exception.js';
export { CrossSiteRequestException } from './errors/cross-site-request.exception.js';
export { UnsupportedPeerError } from './errors/unsupported-peer.error.js';
