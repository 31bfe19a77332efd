/**
 * Scenario 3, in its own process: TokenLogService.issue() (sign + token log
 * write) with a fixed number of calls in flight, for a few seconds each time
 * the harness asks. SQLite: a fresh file, synchronize. PostgreSQL: the bench
 * database, dropSchema then synchronize.
 */
import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { JwtRevocationModule, TokenLogService } from 'nestjs-jwt-revocation';
import { exitWithParent, forceGc, memoryNow, SECRET, send, type IssuanceConfig, type ParentMessage } from './common.js';

function moduleFor(config: IssuanceConfig): DynamicModule {
  @Module({})
  class IssuanceModule {}
  const database: TypeOrmModuleOptions =
    config.database === 'sqlite'
      ? { type: 'better-sqlite3', database: config.sqliteFile!, autoLoadEntities: true, synchronize: true }
      : { type: 'postgres', url: config.postgresUrl, autoLoadEntities: true, dropSchema: true, synchronize: true };
  return {
    module: IssuanceModule,
    imports: [TypeOrmModule.forRoot(database), JwtRevocationModule.forRoot({ signing: { secret: SECRET } })],
  };
}

async function issueFor(tokens: TokenLogService, seconds: number, concurrency: number) {
  const started = performance.now();
  const end = started + seconds * 1000;
  let count = 0;
  let errors = 0;
  let firstError: string | undefined;
  let n = 0;
  const worker = async () => {
    while (performance.now() < end) {
      try {
        // 1000 subjects: issue() reads the subject's version in its transaction.
        await tokens.issue(`user-${n++ % 1000}`, {}, { userAgent: 'bench', ip: '127.0.0.1' });
        count++;
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { count, errors, ms: performance.now() - started, firstError };
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
    issueFor(tokens, message.seconds, message.concurrency).then(
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
