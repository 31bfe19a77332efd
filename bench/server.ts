/**
 * One server under test, in its own process (passport registers strategies
 * globally by name, and memory is measured per process). Started by run.ts
 * with `fork(server.js, [JSON config])` and --expose-gc; listens on a free
 * port of 127.0.0.1 and reports it over IPC.
 */
import 'reflect-metadata';
import {
  Controller,
  Get,
  Injectable,
  Module,
  UnauthorizedException,
  type DynamicModule,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { createSecretKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { DataSource } from 'typeorm';
import { JwtRevocationModule, RevocableJwtGuard, TokenLogService } from 'nestjs-jwt-revocation';
import { RevocationState } from 'nestjs-jwt-revocation/testing';
import {
  answerCpuQuestions,
  exitWithParent,
  forceGc,
  memoryNow,
  SECRET,
  send,
  type ParentMessage,
  type ServerConfig,
} from './common.js';

@Controller()
class PingController {
  @Get('ping')
  ping() {
    return { ok: true };
  }
}

/** (b) and (c): the stateless strategy most apps use. */
function statelessStrategy(secretOrKey: unknown): Type {
  @Injectable()
  class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
    constructor() {
      // @types/passport-jwt says string | Buffer; passport-jwt hands any key to jsonwebtoken, which takes a KeyObject.
      super({ jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), secretOrKey, algorithms: ['HS256'] } as never);
    }

    validate(payload: Record<string, unknown>) {
      return payload;
    }
  }
  return JwtStrategy;
}

/** (f): the same with a KeyObject, plus one token-log query per request. */
@Injectable()
class NaiveStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(private readonly dataSource: DataSource) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: createSecretKey(Buffer.from(SECRET)),
      algorithms: ['HS256'],
    } as never);
  }

  async validate(payload: { jti?: unknown }) {
    const rows = (await this.dataSource.query('SELECT revoked_at FROM jwt_token_log WHERE jti = $1', [
      payload.jti,
    ])) as Array<{ revoked_at: unknown }>;
    if (rows.length === 0 || rows[0].revoked_at !== null) throw new UnauthorizedException();
    return payload;
  }
}

const jwtGuard = { provide: APP_GUARD, useClass: AuthGuard('jwt') };

function moduleFor(config: ServerConfig): DynamicModule {
  @Module({})
  class BenchModule {}
  const base = { module: BenchModule, controllers: [PingController] };
  switch (config.kind) {
    case 'none':
      return base;
    case 'passport-string':
      return { ...base, providers: [statelessStrategy(SECRET), jwtGuard] };
    case 'passport-key':
      return { ...base, providers: [statelessStrategy(createSecretKey(Buffer.from(SECRET))), jwtGuard] };
    case 'naive-pg':
      return {
        ...base,
        imports: [TypeOrmModule.forRoot({ type: 'postgres', url: config.postgresUrl, synchronize: false })],
        providers: [NaiveStrategy, jwtGuard],
      };
    case 'revocable':
      // As the README's minimal app: SQLite through TypeORM, the module, the guard as APP_GUARD.
      return {
        ...base,
        imports: [
          TypeOrmModule.forRoot({
            type: 'better-sqlite3',
            database: config.sqliteFile!,
            autoLoadEntities: true,
            synchronize: false,
          }),
          JwtRevocationModule.forRoot({
            signing: { secret: SECRET },
            mode: config.mode ?? 'denylist',
            verifiedTokenCacheSize: config.verifiedTokenCacheSize,
          }),
        ],
        providers: [{ provide: APP_GUARD, useClass: RevocableJwtGuard }],
      };
  }
}

async function main(): Promise<void> {
  exitWithParent();
  const config = JSON.parse(process.argv[2]) as ServerConfig;
  const started = performance.now();
  const app: INestApplication = await NestFactory.create(moduleFor(config), { logger: ['error', 'warn'] });
  // The revocation state is loaded in onModuleInit: this is the boot load.
  const initStarted = performance.now();
  await app.init();
  const initMs = performance.now() - initStarted;
  const bootMs = performance.now() - started;
  let stats: { revokedTokens?: number; activeTokens?: number } = {};
  if (config.kind === 'revocable') stats = app.get(RevocationState).stats();

  if (config.memoryOnly) {
    await forceGc();
    send({ type: 'ready', bootMs, initMs, memory: memoryNow(), ...stats });
    return; // stays up (IPC keeps it alive) until the harness kills it
  }

  answerCpuQuestions();
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  if (config.kind === 'revocable') {
    const tokens = app.get(TokenLogService);
    process.on('message', (message: ParentMessage) => {
      if (message.type !== 'token') return;
      tokens.issue('bench-user').then(
        (issued) => send({ type: 'token', token: issued.accessToken }),
        (error: Error) => send({ type: 'failed', message: `issue(): ${error.message}` }),
      );
    });
  }
  await forceGc();
  send({ type: 'ready', port, bootMs, initMs, memory: memoryNow(), ...stats });
}

main().catch((error: Error) => {
  if (process.connected) send({ type: 'failed', message: error.stack ?? error.message });
  process.exit(1);
});
