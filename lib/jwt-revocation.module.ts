import { Module, type DynamicModule } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { jwtRevocationEntitySet } from './storage/typeorm/entities/jwt-revocation.entities.js';
import type { JwtRevocationModuleExtras } from './interfaces/jwt-revocation-module-options.interface.js';
import { ASYNC_OPTIONS_TYPE, ConfigurableModuleClass, OPTIONS_TYPE } from './jwt-revocation.module-definition.js';
import { JwtRevocationConfig } from './config/jwt-revocation.config.js';
import { createJwtRevocationProviders } from './jwt-revocation.providers.js';
import { LogoutInterceptor } from './request/logout.interceptor.js';
import { SessionCookies } from './request/session-cookies.js';
import { AccessRenewal } from './tokens/access-renewal.js';
import { RevocationState } from './revocation/revocation-state.js';
import { KeyRing } from './tokens/key-ring.js';
import { AccessTokenCheck } from './request/access-token-check.js';
import { RevocableJwtStrategy } from './request/revocable-jwt.strategy.js';
import { RevocationHealthIndicator } from './propagation/revocation-health.indicator.js';
import { RevocationSync } from './propagation/revocation-sync.js';
import { TokenEvents } from './tokens/token-events.js';
import { TokenLogService } from './tokens/token-log.service.js';
import { TokenStore } from './storage/token-store.interface.js';
import { OWN_URL } from './internal/own-location.js';
import { registerCopy } from './internal/loaded-copies.js';
import { assertSupportedPeers } from './internal/peer-versions.js';

// Before any app uses this copy: a second copy warns as it loads.
registerCopy(OWN_URL);

/**
 * `JwtRevocationModule.forRoot({ signing: { secret } })`, or `forRootAsync`
 * with `useFactory` / `useClass` / `useExisting`. The host app brings the
 * TypeORM data source; this module registers its entities on it.
 */
@Module({})
export class JwtRevocationModule extends ConfigurableModuleClass {
  static forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    return this.complete(super.forRoot(options), options);
  }

  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return this.complete(super.forRootAsync(options), options);
  }

  private static complete(definition: DynamicModule, extras: JwtRevocationModuleExtras): DynamicModule {
    assertSupportedPeers(!extras.store);
    // A store of the app's own needs no entities and no data source.
    const entities = extras.store ? null : jwtRevocationEntitySet(extras.tableNames);
    return {
      ...definition,
      global: extras.isGlobal ?? false,
      imports: [
        ...(definition.imports ?? []),
        PassportModule,
        ...(entities ? [TypeOrmModule.forFeature(Object.values(entities), extras.dataSource)] : []),
      ],
      providers: [...(definition.providers ?? []), ...createJwtRevocationProviders(extras, entities)],
      // PassportModule is re-exported: the guard, built in the host's module, needs its options provider.
      exports: [
        AccessTokenCheck,
        SessionCookies,
        AccessRenewal,
        RevocableJwtStrategy,
        TokenLogService,
        TokenEvents,
        KeyRing,
        RevocationSync,
        RevocationHealthIndicator,
        RevocationState,
        TokenStore,
        JwtRevocationConfig,
        LogoutInterceptor,
        PassportModule,
      ],
    };
  }
}
