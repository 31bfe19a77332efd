/**
 * Scenario 3, in its own process: TokenLogService.issue() (sign + token log
 * write), or refresh() (rotation of a refresh token), with a fixed number of
 * calls in flight, for a few seconds each time the harness asks. SQLite: a
 * fresh file, synchronize, in WAL mode when asked (as the sample opens it).
 * PostgreSQL and MariaDB: the bench database, dropSchema then synchronize.
 */
import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { JwtRevocationModule, TokenLogService } from 'nestjs-jwt-revocation';
import { exitWithParent, forceGc, memoryNow, SECRET, send, type IssuanceConfig, type ParentMessage } from './common.js';

/** The pragmas sample/config.ts sets on a SQLite file (see README, "The sample app"). */
function walMode(db: { pragma(source: string): unknown }): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
}

function moduleFor(config: IssuanceConfig): DynamicModule {
  @Module({})
  class IssuanceModule {}
  const fresh = { autoLoadEntities: true, dropSchema: true, synchronize: true } as const;
  const database: TypeOrmModuleOptions =
    config.database === 'sqlite'
      ? {
          type: 'better-sqlite3',
          database: config.sqliteFile!,
          autoLoadEntities: true,
          synchronize: true,
          ...(config.wal ? { prepareDatabase: walMode } : {}),
        }
      : config.database === 'postgres'
        ? { type: 'postgres', url: config.postgresUrl, ...fresh }
        : { type: 'mariadb', url: config.mariadbUrl, ...fresh };
  return {
    module: IssuanceModule,
    imports: [TypeOrmModule.forRoot(database), JwtRevocationModule.forRoot({ signing: { secret: SECRET } })],
  };
}

/** Runs `call` in `concurrency` loops for `seconds`; `call(worker)` is one operation of that loop. */
async function runFor(seconds: number, concurrency: number, call: (worker: number) => Promise<unknown>) {
  const started = performance.now();
  const end = started + seconds * 1000;
  let count = 0;
  let errors = 0;
  let firstError: string | undefined;
  const worker = async (id: number) => {
    while (performance.now() < end) {
      try {
        await call(id);
        count++;
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, id) => worker(id)));
  return { count, errors, ms: performance.now() - started, firstError };
}

const context = { userAgent: 'bench', ip: '127.0.0.1' };

function issueFor(tokens: TokenLogService, seconds: number, concurrency: number) {
  let n = 0;
  // 1000 subjects: issue() takes the subject's row in its transaction.
  return runFor(seconds, concurrency, () => tokens.issue(`user-${n++ % 1000}`, {}, context));
}

/** Each loop refreshes a chain of its own (one session per loop), as many clients refreshing at once do. */
const chains = new Map<number, string>();
async function refreshFor(tokens: TokenLogService, seconds: number, concurrency: number) {
  for (let id = 0; id < concurrency; id++)
    if (!chains.has(id)) chains.set(id, (await tokens.issue(`refresher-${id}`, {}, context)).refreshToken);
  return runFor(seconds, concurrency, async (id) => {
    const next = await tokens.refresh(chains.get(id)!, context);
    chains.set(id, next.refreshToken);
  });
}

async function main(): Promise<void> {
  exitWithParent();
  const config = JSON.parse(process.argv[2]) as IssuanceConfig;
  const started = performance.now();
  const app = await NestFactory.createApplicationContext(moduleFor(config), { logger: ['error', 'warn'] });
  const initStarted = performance.now();
  await app.init();
  const initMs = performance.now() - initStarted;
  const tokens = app.get(TokenLogService);
  process.on('message', (message: ParentMessage) => {
    if (message.type !== 'issue') return;
    const run = message.operation === 'refresh' ? refreshFor : issueFor;
    run(tokens, message.seconds, message.concurrency).then(
      (result) => send({ type: 'issued', ...result }),
      (error: Error) => send({ type: 'failed', message: error.message }),
    );
  });
  await forceGc();
  send({ type: 'ready', bootMs: performance.now() - started, initMs, memory: memoryNow() });
}

main().catch((error: Error) => {
  if (process.connected) send({ type: 'failed', message: error.stack ?? error.message });
  process.exit(1);
});
