/**
 * `nestjs-jwt-revocation/testing`: what tests need and apps do not. The
 * module's internal providers (to `app.get()` them in a test), the default
 * TypeORM store, and the pure pieces the library's own unit tests check.
 * Nothing here is needed to run the module; it may change in a minor version.
 */
export { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
export { JwtRevocationDefaults } from '../config/jwt-revocation.defaults.js';
export { RevocationState, type Verdict } from '../revocation/revocation-state.js';
export { ExpiringSet } from '../revocation/expiring-set.js';
export { RevocationSync } from '../propagation/revocation-sync.js';
export { PollingBus } from '../propagation/polling.bus.js';
export { LogoutInterceptor } from '../request/logout.interceptor.js';
export { SessionActivity } from '../request/session-activity.js';
export { SubjectValidator } from '../request/subject-validator.js';
export { CredentialFingerprint } from '../tokens/credential-fingerprint.js';
export { createTokenExtractor } from '../request/token-extractor.js';
export { refusesCrossSite, ownOrigin } from '../request/cross-site-check.js';
export { resolveCookies, type ResolvedCookies } from '../config/cookie-options.js';
export { appendSetCookie, serializeCookie } from '../request/cookie-header.js';
export { RevocableJwtStrategy } from '../request/revocable-jwt.strategy.js';
export { TokenNotAccepted } from '../request/access-token-check.js';
export { VerifiedTokenCache } from '../tokens/verified-token-cache.js';
export { TokenCodec } from '../tokens/token-codec.js';
export { RefreshSuccessor } from '../tokens/refresh-successor.js';
export { checkAccessToken } from '../tokens/token-claims.js';
export { ArchiveSweeper } from '../archive/archive-sweeper.js';
export { TypeOrmTokenStore } from '../storage/typeorm/typeorm-token.store.js';
export {
  jwtRevocationEntitySet,
  type JwtRevocationEntitySet,
} from '../storage/typeorm/entities/jwt-revocation.entities.js';
export { closeHungConnections } from '../storage/typeorm/hung-connections.js';
export { chunks } from '../storage/typeorm/revocation-rows.js';
export { withStoreTimeout } from '../storage/store-timeout.js';
export { StoreTimeoutError } from '../errors/store-timeout.error.js';
export { INVALID_TOKEN_CHALLENGE } from '../errors/invalid-token.exception.js';
export { installedVersion, SUPPORTED_PEERS, unsupportedPeer } from '../internal/peer-versions.js';
export { DUAL_PACKAGE_WARNING, LOADED_COPIES, registerCopy } from '../internal/loaded-copies.js';
export { loadOptional } from '../internal/optional-dependency.js';
export { assertDatabaseDriver, assertDriverInstalled } from '../storage/typeorm/database-url.js';
export { InMemoryTokenStore } from '../storage/in-memory/in-memory-token.store.js';
export {
  tokenStoreContract,
  type ContractExpect,
  type ContractMatchers,
  type ContractStore,
  type ContractTestApi,
  type MakeContractStore,
  type TokenStoreContractOptions,
} from './token-store.contract.js';
