import 'reflect-metadata';
import { Controller, Get, UseGuards, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import {
  CurrentSubject,
  CurrentToken,
  JwtRevocationModule,
  RevocableJwtGuard,
  TokenLogService,
  type JwtRevocationModuleOptions,
  type VerifiedToken,
} from 'nestjs-jwt-revocation';
import { tempSqliteDatabase } from './databases.js';
import { startTestApp, type RunningTestApp, type TestAppOptions } from './test-app.js';

/** A guarded echo of the caller's claims, used by several guard scenarios. */
@Controller('who')
@UseGuards(RevocableJwtGuard)
export class WhoController {
  @Get()
  who(@CurrentSubject() sub: string, @CurrentToken('sid') sid: string, @CurrentToken() token: VerifiedToken) {
    return { sub, sid, jti: token.jti };
  }
}

export interface GuardAppExtras extends Pick<ModuleMetadata, 'controllers' | 'providers'>, TestAppOptions {
  /** Where the module keeps its tables: a new SQLite file unless given. */
  database?: TypeOrmModuleOptions;
}

/** JwtRevocationModule.forRoot(options) on a database, with the given controllers, listening on loopback (Express unless told). */
export function startGuardApp(
  options: JwtRevocationModuleOptions,
  extras: GuardAppExtras = {},
): Promise<RunningTestApp> {
  const { database = tempSqliteDatabase(), controllers, providers, adapter } = extras;
  return startTestApp(
    { imports: [TypeOrmModule.forRoot(database), JwtRevocationModule.forRoot(options)], controllers, providers },
    { adapter },
  );
}

/** The TokenLogService of an app, or of a running test app. */
export function tokensOf(target: INestApplication | RunningTestApp): TokenLogService {
  return ('http' in target ? target.app : target).get(TokenLogService);
}
