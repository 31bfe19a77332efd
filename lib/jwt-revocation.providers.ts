import type { Provider } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { JwtRevocationEntitySet } from './entities/jwt-revocation.entities.js';
import { TokenStore } from './interfaces/token-store.interface.js';
import type { JwtRevocationModuleOptions } from './interfaces/jwt-revocation-module-options.interface.js';
import { JWT_REVOCATION_MODULE_OPTIONS } from './jwt-revocation.module-definition.js';
import { ArchiveSweeper } from './archive-sweeper.js';
import { closeHungConnections } from './hung-connections.js';
import { JWT_REVOCATION_BUS } from './jwt-revocation.constants.js';
import { createRevocationBus } from './propagation/create-bus.js';
import { RevocationHealthIndicator } from './revocation-health.indicator.js';
import { RefreshSuccessor } from './refresh-successor.js';
import { RevocationSync } from './revocation-sync.js';
import { JwtRevocationConfig } from './jwt-revocation.options.js';
import { LogoutInterceptor } from './logout.interceptor.js';
import { RevocableJwtStrategy } from './revocable-jwt.strategy.js';
import { RevocationState } from './revocation-state.js';
import { SessionActivity } from './session-activity.js';
import { TypeOrmTokenStore } from './stores/typeorm-token.store.js';
import { SubjectValidator } from './subject-validator.js';
import { TokenLogService } from './token-log.service.js';
import { KeyRing } from './key-ring.js';
import { TokenCodec } from './token-codec.js';
import { TokenEvents } from './token-events.js';

export function createJwtRevocationProviders(entities: JwtRevocationEntitySet, dataSource?: string): Provider[] {
  return [
    {
      provide: JwtRevocationConfig,
      useFactory: (options: JwtRevocationModuleOptions) => JwtRevocationConfig.from(options),
      inject: [JWT_REVOCATION_MODULE_OPTIONS],
    },
    {
      provide: JWT_REVOCATION_BUS,
      useFactory: (config: JwtRevocationConfig, source: DataSource) =>
        createRevocationBus(config, source, entities.revocationEvent.options.tableName ?? 'jwt_revocation_event'),
      inject: [JwtRevocationConfig, getDataSourceToken(dataSource)],
    },
    {
      provide: TokenStore,
      useFactory: (source: DataSource) => {
        // The store's calls give up after storeTimeout; what they leave hanging must not go back into the pool.
        closeHungConnections(source);
        return new TypeOrmTokenStore(source, entities);
      },
      inject: [getDataSourceToken(dataSource)],
    },
    KeyRing,
    TokenCodec,
    RefreshSuccessor,
    TokenEvents,
    RevocationState,
    RevocationSync,
    RevocationHealthIndicator,
    SessionActivity,
    SubjectValidator,
    TokenLogService,
    ArchiveSweeper,
    RevocableJwtStrategy,
    LogoutInterceptor,
  ];
}
