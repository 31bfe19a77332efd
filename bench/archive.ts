/**
 * Scenario 4: sweeping a backlog of expired rows on PostgreSQL, and what it
 * does to logins meanwhile. The module runs as an app does (Nest context,
 * TypeOrmModule, JwtRevocationModule); the backlog is inserted with one
 * INSERT ... SELECT generate_series.
 */
import 'reflect-metadata';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { JwtRevocationModule, TokenLogService } from 'nestjs-jwt-revocation';
import type { DataSource } from 'typeorm';

export interface ArchiveFigures {
  rows: number;
  batchSize: number;
  sweepMs: number;
  rowsPerSecond: number;
  /** issue() latency (sign + log write: the database part of a login), ms. */
  idle: { p50: number; p99: number; calls: number };
  duringSweep: { p50: number; p99: number; calls: number };
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;

/** Calls issue() with `concurrency` in flight until `until()` says stop; returns each call's latency. */
async function issueLoop(tokens: TokenLogService, concurrency: number, until: () => boolean): Promise<number[]> {
  const latencies: number[] = [];
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!until()) {
        const started = performance.now();
        await tokens.issue(`bench-login-${n++ % 1000}`);
        latencies.push(performance.now() - started);
      }
    }),
  );
  return latencies.sort((a, b) => a - b);
}

export async function archiveScenario(
  postgresUrl: string,
  rows: number,
  batchSize: number,
  log: (line: string) => void,
): Promise<ArchiveFigures> {
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        type: 'postgres',
        url: postgresUrl,
        autoLoadEntities: true,
        synchronize: true,
        dropSchema: true,
      }),
      JwtRevocationModule.forRoot({
        signing: { secret: 'bench-secret-0123456789-abcdefghijklmnopqrstuvw' },
        archiveInterval: 0,
      }),
    ],
  })
  class ArchiveBenchModule {}
  const app: INestApplicationContext = await NestFactory.createApplicationContext(ArchiveBenchModule, {
    logger: ['error'],
  });
  try {
    const tokens = app.get(TokenLogService);
    const source = app.get<DataSource>(getDataSourceToken());
    log(`scenario 4: seeding ${rows.toLocaleString('en-US')} expired rows`);
    const expired = Date.now() - 3_600_000;
    await source.query(
      `INSERT INTO jwt_token_log (jti, subject, token_type, session_id, subject_version, issued_at, expires_at)
       SELECT 'bench-' || g, 'user-' || (g % 10000), 'access', 'session-' || (g % 200000), 0, $1::bigint, $2::bigint
       FROM generate_series(1, $3::int) AS g`,
      [expired - 900_000, expired, rows],
    );
    await source.query('ANALYZE jwt_token_log');

    log('scenario 4: issue() latency, idle (5 s)');
    const idleEnd = Date.now() + 5000;
    const idle = await issueLoop(tokens, 4, () => Date.now() > idleEnd);

    log('scenario 4: sweeping, with issue() running beside it');
    let sweeping = true;
    const started = performance.now();
    const during = issueLoop(tokens, 4, () => !sweeping);
    const result = await tokens.archiveExpired({ batchSize }).finally(() => (sweeping = false));
    const sweepMs = performance.now() - started;
    const busy = await during;
    if (result.archived < rows) throw new Error(`sweep moved ${result.archived} of ${rows} rows`);
    return {
      rows: result.archived,
      batchSize,
      sweepMs,
      rowsPerSecond: (result.archived / sweepMs) * 1000,
      idle: { p50: percentile(idle, 50), p99: percentile(idle, 99), calls: idle.length },
      duringSweep: { p50: percentile(busy, 50), p99: percentile(busy, 99), calls: busy.length },
    };
  } finally {
    await app.close();
  }
}
