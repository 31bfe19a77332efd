import 'reflect-metadata';
import type { INestApplication, Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import {
  JwtRevocationModule,
  KeyRing,
  RevocableJwtGuard,
  TokenEvents,
  TokenLogService,
  TokenStore,
  type JwtRevocationModuleOptions,
  type VerifiedToken,
} from 'nestjs-jwt-revocation';
import { jwtRevocationEntitySet, RevocationState } from 'nestjs-jwt-revocation/testing';
import type { DataSource } from 'typeorm';
import { decodePart } from './forge.js';
import { testLogs } from './logs.js';
import { TEST_SECRET } from './keys.js';

export const entities = jwtRevocationEntitySet();

export interface ModuleApp {
  app: INestApplication;
  tokens: TokenLogService;
  state: RevocationState;
  events: TokenEvents;
  keys: KeyRing;
  source: DataSource;
  close(): Promise<void>;
}

export interface ModuleAppExtras {
  /** Controllers to mount; with any, RevocableJwtGuard guards every route (APP_GUARD) and the app listens on loopback. */
  controllers?: Type[];
  /** Replaces the TypeORM store: a subclass that pauses at a chosen point, for a race played in a set order. */
  store?: (source: DataSource) => TokenStore;
}

/** The module on a real database, the way an app imports it; HTTP only when controllers are given. It logs to `testLogs`. */
export async function bootModule(
  database: TypeOrmModuleOptions,
  options: Partial<JwtRevocationModuleOptions> = {},
  extras: ModuleAppExtras = {},
): Promise<ModuleApp> {
  const controllers = extras.controllers ?? [];
  let builder = Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot(database),
      JwtRevocationModule.forRoot({
        signing: { secret: TEST_SECRET },
        archiveInterval: 0,
        ...options,
      } as JwtRevocationModuleOptions),
    ],
    controllers,
    providers: controllers.length > 0 ? [{ provide: APP_GUARD, useClass: RevocableJwtGuard }] : [],
  }).setLogger(testLogs);
  if (extras.store)
    builder = builder
      .overrideProvider(TokenStore)
      .useFactory({ factory: extras.store, inject: [getDataSourceToken()] });
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication({ logger: testLogs });
  await app.init();
  if (controllers.length > 0) await app.listen(0, '127.0.0.1');
  return {
    app,
    tokens: app.get(TokenLogService),
    state: app.get(RevocationState),
    events: app.get(TokenEvents),
    keys: app.get(KeyRing),
    source: app.get<DataSource>(getDataSourceToken()),
    close: () => app.close(),
  };
}

/** The claims of an access token, as the guard would hand them over after the signature check. */
export const claimsOf = (accessToken: string) => decodePart(accessToken, 1) as unknown as VerifiedToken;
