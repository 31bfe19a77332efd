import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import {
  JwtRevocationModule,
  jwtRevocationEntitySet,
  KeyRing,
  RevocationState,
  TokenEvents,
  TokenLogService,
  type JwtRevocationModuleOptions,
  type VerifiedToken,
} from 'nestjs-jwt-revocation';
import type { DataSource } from 'typeorm';
import { decodePart } from './forge.js';
import { TEST_SECRET } from './sample-app.js';

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

/** The module alone on a real database, the way an app imports it; no HTTP. */
export async function bootModule(database: TypeOrmModuleOptions, options: Partial<JwtRevocationModuleOptions> = {}): Promise<ModuleApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot(database),
      JwtRevocationModule.forRoot({ signing: { secret: TEST_SECRET }, archiveInterval: 0, ...options } as JwtRevocationModuleOptions),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error'] });
  await app.init();
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
