import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JwtRevocationModule, RevocableJwtGuard } from 'nestjs-jwt-revocation';
import { AuthController } from './auth/auth.controller.js';
import { INTROSPECTION_CLIENT, OAuthController } from './auth/oauth.controller.js';
import { METRICS_TOKEN, MetricsController } from './metrics/metrics.controller.js';
import { AuthRateLimitGuard, RATE_LIMITS, type RateLimits } from './auth/rate-limit.guard.js';
import { renewalOf, SAMPLE_DEFAULTS, signingOf, type SampleConfig } from './config.js';
import { HealthController } from './health.controller.js';
import { MeController } from './me.controller.js';
import { ReuseAlarm } from './reuse-alarm.js';
import { UsersModule } from './users/users.module.js';
import { UsersService } from './users/users.service.js';
import { WebController } from './web/web.controller.js';

@Module({})
export class AppModule {
  static forConfig(config: SampleConfig): DynamicModule {
    const users = UsersModule.forRoot({
      passwordHashCost: config.passwordHashCost ?? SAMPLE_DEFAULTS.passwordHashCost,
    });
    return {
      module: AppModule,
      imports: [
        TypeOrmModule.forRoot(config.database),
        users,
        JwtRevocationModule.forRootAsync({
          imports: [users],
          inject: [UsersService],
          useFactory: (users: UsersService) => ({
            signing: signingOf(config),
            issuer: 'nestjs-jwt-revocation-sample',
            accessTokenTtl: config.accessTokenTtl,
            refreshTokenTtl: config.refreshTokenTtl,
            refreshReuseGrace: config.refreshReuseGrace,
            // The module sets no session limits of its own: the app decides (see SAMPLE_DEFAULTS).
            sessionMaxLifetime: config.sessionMaxLifetime ?? SAMPLE_DEFAULTS.sessionMaxLifetime,
            sessionIdleTimeout: config.sessionIdleTimeout ?? SAMPLE_DEFAULTS.sessionIdleTimeout,
            redis: config.redisUrl,
            propagation: config.propagation,
            syncInterval: config.syncInterval,
            maxStaleness: config.maxStaleness,
            failClosed: config.failClosed,
            // The account pages sign in with cookies (API clients keep the Bearer header); the refresh cookie goes to one path.
            cookies: { refreshPath: '/auth/refresh', secure: config.cookieSecure ?? true },
            // An active page gets a new access token before its own runs out, as the access cookie (Bearer clients: a header).
            slidingRenewal: renewalOf(config),
            // A deleted account's tokens die with revokeAllForSubject; this
            // also covers a row deleted behind the app's back, within 30 s.
            validateSubject: (subject: string) => users.exists(subject),
            validateSubjectCacheTtl: 30,
          }),
        }),
      ],
      controllers: [AuthController, OAuthController, MeController, HealthController, MetricsController, WebController],
      providers: [
        // Every route needs a valid token unless marked @Public().
        { provide: APP_GUARD, useClass: RevocableJwtGuard },
        { provide: INTROSPECTION_CLIENT, useValue: config.introspectionClient },
        { provide: METRICS_TOKEN, useValue: config.metricsToken ?? null },
        // On routes with @UseGuards(AuthRateLimitGuard); @RateLimit says which budgets they spend.
        {
          provide: RATE_LIMITS,
          useValue: {
            auth: config.authRateLimit,
            password: config.passwordRateLimit ?? SAMPLE_DEFAULTS.passwordRateLimit,
            revoke: config.revokeRateLimit ?? SAMPLE_DEFAULTS.revokeRateLimit,
          } satisfies RateLimits,
        },
        AuthRateLimitGuard,
        ReuseAlarm,
      ],
    };
  }
}
