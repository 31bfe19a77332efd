import type { Provider, Type } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { JwtRevocationEntitySet } from './storage/typeorm/entities/jwt-revocation.entities.js';
import { TokenStore } from './storage/token-store.interface.js';
import type {
  JwtRevocationModuleExtras,
  JwtRevocationModuleOptions,
} from './interfaces/jwt-revocation-module-options.interface.js';
import { JWT_REVOCATION_MODULE_OPTIONS } from './jwt-revocation.module-definition.js';
import { ArchiveSweeper } from './archive/archive-sweeper.js';
import { closeHungConnections } from './storage/typeorm/hung-connections.js';
import { warnIfSqliteWithoutWal } from './storage/typeorm/sqlite-journal.js';
import { DEFAULT_TABLE_NAMES, JWT_REVOCATION_BUS } from './jwt-revocation.constants.js';
import { createRevocationBus } from './propagation/create-bus.js';
import { RevocationHealthIndicator } from './propagation/revocation-health.indicator.js';
import { RefreshSuccessor } from './tokens/refresh-successor.js';
import { RevocationSync } from './propagation/revocation-sync.js';
import { JwtRevocationConfig } from './config/jwt-revocation.config.js';
import { LogoutInterceptor } from './request/logout.interceptor.js';
import { SessionCookies } from './request/session-cookies.js';
import { AccessTokenCheck } from './request/access-token-check.js';
import { MigrationWindow } from './request/migration-window.js';
import { RevocableJwtStrategy } from './request/revocable-jwt.strategy.js';
import { RevocationState } from './revocation/revocation-state.js';
import { SessionActivity } from './request/session-activity.js';
import { TypeOrmTokenStore } from './storage/typeorm/typeorm-token.store.js';
import { SubjectValidator } from './request/subject-validator.js';
import { TokenLogService } from './tokens/token-log.service.js';
import { TokenIssuer } from './tokens/token-issuer.js';
import { CredentialFingerprint } from './tokens/credential-fingerprint.js';
import { AccessRenewal } from './tokens/access-renewal.js';
import { RefreshRotation } from './tokens/refresh-rotation.js';
import { SessionLifetime } from './tokens/session-lifetime.js';
import { SessionList } from './tokens/session-list.js';
import { KeyRetirement } from './audit/key-retirement.js';
import { SecurityEventList } from './audit/security-event-list.js';
import { TokenRevoker } from './revocation/token-revoker.js';
import { PresentedTokens } from './oauth/presented-tokens.js';
import { TokenRevocation } from './oauth/token-revocation.js';
import { TokenIntrospection } from './oauth/token-introspection.js';
import { KeyRing } from './tokens/key-ring.js';
import { TokenCodec } from './tokens/token-codec.js';
import { TokenEvents } from './tokens/token-events.js';
import { instrumentStore } from './telemetry/instrumented-store.js';
import { JwtRevocationMetrics } from './telemetry/jwt-revocation.metrics.js';
import { Telemetry } from './telemetry/telemetry.js';

/** The app's own store class, as Nest builds it, before `instrumentStore` wraps it. */
const OWN_STORE = Symbol('JWT_REVOCATION_OWN_STORE');

/** The store and the bus: the host's TypeORM data source by default, or the `store` class it names. */
function storageProviders(extras: JwtRevocationModuleExtras, entities: JwtRevocationEntitySet | null): Provider[] {
  if (!entities) {
    return [
      { provide: OWN_STORE, useClass: extras.store as Type<TokenStore> },
      {
        provide: TokenStore,
        useFactory: (store: TokenStore, telemetry: Telemetry) => instrumentStore(store, telemetry),
        inject: [OWN_STORE, Telemetry],
      },
      {
        provide: JWT_REVOCATION_BUS,
        useFactory: (config: JwtRevocationConfig) =>
          createRevocationBus(config, null, DEFAULT_TABLE_NAMES.revocationEvent),
        inject: [JwtRevocationConfig],
      },
    ];
  }
  const source = getDataSourceToken(extras.dataSource);
  return [
    {
      provide: TokenStore,
      useFactory: (dataSource: DataSource, telemetry: Telemetry) => {
        // The store's calls give up after storeTimeout; what they leave hanging must not go back into the pool.
        closeHungConnections(dataSource);
        warnIfSqliteWithoutWal(dataSource);
        return instrumentStore(new TypeOrmTokenStore(dataSource, entities), telemetry);
      },
      inject: [source, Telemetry],
    },
    {
      provide: JWT_REVOCATION_BUS,
      useFactory: (config: JwtRevocationConfig, dataSource: DataSource) =>
        createRevocationBus(
          config,
          dataSource,
          entities.revocationEvent.options.tableName ?? DEFAULT_TABLE_NAMES.revocationEvent,
        ),
      inject: [JwtRevocationConfig, source],
    },
  ];
}

/** Every provider of one JwtRevocationModule; `entities` is null when the app brings its own store. */
export function createJwtRevocationProviders(
  extras: JwtRevocationModuleExtras,
  entities: JwtRevocationEntitySet | null,
): Provider[] {
  return [
    {
      provide: JwtRevocationConfig,
      useFactory: (options: JwtRevocationModuleOptions) => JwtRevocationConfig.from(options),
      inject: [JWT_REVOCATION_MODULE_OPTIONS],
    },
    // The app's @opentelemetry/api, when installed: loaded once, before anything that measures.
    { provide: Telemetry, useFactory: () => Telemetry.load() },
    JwtRevocationMetrics,
    ...storageProviders(extras, entities),
    KeyRing,
    TokenCodec,
    RefreshSuccessor,
    TokenEvents,
    RevocationState,
    RevocationSync,
    RevocationHealthIndicator,
    SessionActivity,
    SubjectValidator,
    CredentialFingerprint,
    TokenLogService,
    TokenIssuer,
    RefreshRotation,
    AccessRenewal,
    SessionLifetime,
    SessionList,
    SecurityEventList,
    KeyRetirement,
    TokenRevoker,
    PresentedTokens,
    TokenRevocation,
    TokenIntrospection,
    ArchiveSweeper,
    MigrationWindow,
    AccessTokenCheck,
    SessionCookies,
    RevocableJwtStrategy,
    LogoutInterceptor,
  ];
}
