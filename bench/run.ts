/**
 * The benchmark harness: `npm run bench`. Starts every server under test in
 * its own child process on 127.0.0.1, drives it with autocannon, and writes a
 * Markdown table to stdout and bench/results/latest.md, and every round to
 * bench/results/latest.json. See bench/README.md for the scenarios.
 *
 * Env: BENCH_ROUNDS (5), BENCH_SECONDS (3, per autocannon run), BENCH_WARMUP
 * (2, seconds of discarded load per target before round 1), BENCH_ISSUE_SECONDS
 * (3), BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/bench),
 * BENCH_MYSQL_URL (mysql://root@127.0.0.1:3306/bench, a MariaDB server),
 * BENCH_ONLY (a comma list of scenarios: throughput, memory, issuance,
 * archive, propagation; all when unset).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FIXED_JTI,
  signToken,
  type ChildMessage,
  type IssuanceConfig,
  type MemoryFigures,
  type ParentMessage,
  type ServerConfig,
} from './common.js';
import {
  createSqliteSchema,
  ensureMariadbDatabase,
  ensurePostgresDatabase,
  preparePostgresTokenLog,
  seedRevoked,
} from './seed.js';
import { archiveScenario, type ArchiveFigures } from './archive.js';
import { propagationScenario, type PropagationFigures } from './propagation.js';

// ---------------------------------------------------------------- settings

function envInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min)
    throw new Error(`${name} must be a whole number >= ${min}, got "${raw}"`);
  return value;
}

const ROUNDS = envInt('BENCH_ROUNDS', 5);
const SECONDS = envInt('BENCH_SECONDS', 3);
const WARMUP = envInt('BENCH_WARMUP', 2, 0);
const ISSUE_SECONDS = envInt('BENCH_ISSUE_SECONDS', 3);
const CONNECTIONS = 10;
const ISSUE_CONCURRENCY = 16;
const POSTGRES_URL = process.env.BENCH_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/bench';
/** A MariaDB server (TypeORM's 'mariadb' type; a mysql:// URL is read as one). */
const MARIADB_URL = (process.env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306/bench').replace(/^mysql:/, 'mariadb:');
const SIZES = [0, 100_000, 1_000_000] as const;

/** BENCH_MEMORY_SIZES: revoked jtis per process of scenario 2, comma-separated; it must hold 0 (the base). */
function memorySizes(): number[] {
  const raw = process.env.BENCH_MEMORY_SIZES || '0,100000,1000000,3000000';
  const sizes = raw.split(',').map((part) => Number(part.trim()));
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 0) || !sizes.includes(0))
    throw new Error(`BENCH_MEMORY_SIZES must be whole numbers >= 0 including 0, got "${raw}"`);
  return [...new Set(sizes)].sort((a, b) => a - b);
}
const MEMORY_SIZES = memorySizes();
const BOOT_TIMEOUT = 180_000;

const ARCHIVE_ROWS = envInt('BENCH_ARCHIVE_ROWS', 1_000_000);
const ARCHIVE_BATCH = envInt('BENCH_ARCHIVE_BATCH', 1000);
const SYNC_INTERVAL = envInt('BENCH_SYNC_INTERVAL', 5);
const PUSH_SAMPLES = envInt('BENCH_PROPAGATION_SAMPLES', 30);
const POLL_SAMPLES = envInt('BENCH_POLL_SAMPLES', 12);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The scenarios by name, in the order they run. */
const SCENARIOS = ['throughput', 'memory', 'issuance', 'archive', 'propagation'] as const;
type Scenario = (typeof SCENARIOS)[number];

/** BENCH_ONLY: a comma list of scenario names to run (all when unset), e.g. BENCH_ONLY=issuance. */
function onlyScenarios(raw = process.env.BENCH_ONLY): ReadonlySet<Scenario> {
  if (raw === undefined || raw.trim() === '') return new Set(SCENARIOS);
  const names = raw
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0)
    throw new Error(`BENCH_ONLY names scenarios among ${SCENARIOS.join(', ')}; got "${raw}"`);
  return new Set(names as Scenario[]);
}
const ONLY = onlyScenarios();
const runs = (scenario: Scenario) => ONLY.has(scenario);

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root: the propagation scenario runs build/sample/main.js from it. */
const ROOT = resolve(here, '../..');
const RESULTS_DIR = resolve(here, '../../bench/results');
const SERVER_SCRIPT = join(here, 'server.js');
const ISSUANCE_SCRIPT = join(here, 'issuance.js');

// ---------------------------------------------------------------- autocannon (no types installed)

interface CannonResult {
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
  latency: { p50: number; p99: number; average: number; max: number };
  requests: { total: number; average: number };
}
const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as (options: Record<string, unknown>) => Promise<CannonResult>;

// ---------------------------------------------------------------- children

const children = new Set<ChildProcess>();
let tempDir: string | undefined;

function cleanUp(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  tempDir = undefined;
}

process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    log(`\n${signal}: stopping the servers`);
    cleanUp();
    process.exit(130);
  });
}

const log = (line: string) => process.stderr.write(`${line}\n`);

class Child {
  readonly proc: ChildProcess;

  constructor(
    readonly name: string,
    script: string,
    config: ServerConfig | IssuanceConfig,
  ) {
    // stdout goes to our stderr: stdout is the result table's.
    this.proc = fork(script, [JSON.stringify(config)], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    this.proc.stdout?.pipe(process.stderr, { end: false });
    children.add(this.proc);
    this.proc.once('exit', () => children.delete(this.proc));
  }

  /** Sends `request` (if any) and waits for a message of `type`; a 'failed' message, an exit or the timeout reject. */
  ask<T extends ChildMessage['type']>(
    type: T,
    request?: ParentMessage,
    timeoutMs = 60_000,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.proc.off('message', onMessage);
        this.proc.off('exit', onExit);
      };
      const onMessage = (message: ChildMessage) => {
        if (message.type === type) {
          done();
          resolve(message as Extract<ChildMessage, { type: T }>);
        } else if (message.type === 'failed') {
          done();
          reject(new Error(`${this.name}: ${message.message}`));
        }
      };
      const onExit = (code: number | null, signal: string | null) => {
        done();
        reject(new Error(`${this.name} exited (${code ?? signal}) while the harness waited for "${type}"`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no "${type}" within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.proc.on('message', onMessage);
      this.proc.once('exit', onExit);
      if (request) this.proc.send(request);
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- statistics

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const MB = 1_000_000;
const fmt = (value: number, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : 'n/a';
const verdict = (met: boolean) => (met ? 'met' : 'MISSED');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- scenario 1: throughput

interface Target {
  id: string;
  label: string;
  config: ServerConfig;
  revoked?: number;
  /** A jti revoked in its database: a token naming it must get a 401. */
  revokedJti?: string;
}

interface RunFigures {
  reqPerSec: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  /** Server process CPU time (user + system) per answered request, microseconds. */
  cpuMicrosPerRequest: number;
}

interface TargetResult {
  id: string;
  label: string;
  boot: {
    bootMs: number;
    initMs: number;
    heapUsed: number;
    rss: number;
    revokedTokens?: number;
    activeTokens?: number;
  };
  rounds: RunFigures[];
  median: { reqPerSec: number; p99: number; cpuMicrosPerRequest: number };
  failures: number;
}

interface LiveTarget extends Target {
  child: Child;
  url: string;
}

async function tokenFor(target: LiveTarget): Promise<string> {
  if (target.config.kind === 'revocable') return (await target.child.ask('token', { type: 'token' })).token;
  return signToken({ sub: 'bench-user', jti: FIXED_JTI, sid: 'bench-session' });
}

async function expectStatus(url: string, token: string | null, status: number, what: string): Promise<void> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const body = await response.text();
  if (response.status !== status)
    throw new Error(`sanity check failed: ${what}: expected ${status}, got ${response.status} ${body.slice(0, 200)}`);
  if (status === 200 && body !== '{"ok":true}')
    throw new Error(`sanity check failed: ${what}: body ${body.slice(0, 200)}`);
}

/** Proves each server does what its label says before any figure is taken. */
async function sanityCheck(target: LiveTarget): Promise<void> {
  await expectStatus(target.url, await tokenFor(target), 200, `${target.id} with its token`);
  if (target.config.kind === 'none') return;
  await expectStatus(target.url, null, 401, `${target.id} without a token`);
  const forged = signToken({ sub: 'bench-user', jti: FIXED_JTI, sid: 'bench-session' }).replace(/.$/, (c) =>
    c === 'A' ? 'B' : 'A',
  );
  await expectStatus(target.url, forged, 401, `${target.id} with a bad signature`);
  if (target.revokedJti) {
    await expectStatus(
      target.url,
      signToken({ sub: 'user-0', jti: target.revokedJti, sid: 'seeded' }),
      401,
      `${target.id} with a revoked jti`,
    );
  }
  if (target.config.mode === 'allowlist') {
    await expectStatus(
      target.url,
      signToken({ sub: 'bench-user', jti: 'notInTheLog00000000000', sid: 'x' }),
      401,
      `${target.id} with an unknown jti`,
    );
  }
}

async function cannon(target: LiveTarget, seconds: number): Promise<RunFigures> {
  const token = await tokenFor(target);
  const cpuBefore = (await target.child.ask('cpu', { type: 'cpu' })).micros;
  const result = await autocannon({
    url: target.url,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
    timeout: 10,
  });
  return {
    reqPerSec: result['2xx'] / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: result.duration,
    cpuMicrosPerRequest:
      ((await target.child.ask('cpu', { type: 'cpu' })).micros - cpuBefore) / (result['2xx'] + result.non2xx),
  };
}

async function throughput(targets: Target[]): Promise<TargetResult[]> {
  const live: LiveTarget[] = [];
  const results = new Map<string, TargetResult>();
  try {
    for (const target of targets) {
      log(`  booting ${target.id} (${target.label})`);
      const child = new Child(target.id, SERVER_SCRIPT, target.config);
      const ready = await child.ask('ready', undefined, BOOT_TIMEOUT);
      if (target.revoked !== undefined && ready.revokedTokens !== target.revoked) {
        throw new Error(`${target.id}: loaded ${ready.revokedTokens} revoked tokens, expected ${target.revoked}`);
      }
      const entry: LiveTarget = { ...target, child, url: `http://127.0.0.1:${ready.port}/ping` };
      live.push(entry);
      results.set(target.id, {
        id: target.id,
        label: target.label,
        boot: {
          bootMs: ready.bootMs,
          initMs: ready.initMs,
          heapUsed: ready.memory.heapUsed,
          rss: ready.memory.rss,
          revokedTokens: ready.revokedTokens,
          activeTokens: ready.activeTokens,
        },
        rounds: [],
        median: { reqPerSec: NaN, p99: NaN, cpuMicrosPerRequest: NaN },
        failures: 0,
      });
      await sanityCheck(entry);
    }
    if (WARMUP > 0) {
      log(`  warm-up: ${WARMUP} s per target`);
      for (const target of live) await cannon(target, WARMUP);
    }
    for (let round = 0; round < ROUNDS; round++) {
      // Every target once per round; the starting target rotates so no target always runs first.
      const order = live.map((_, i) => live[(i + round) % live.length]);
      const line: string[] = [];
      for (const target of order) {
        const figures = await cannon(target, SECONDS);
        const result = results.get(target.id)!;
        result.rounds.push(figures);
        result.failures += figures.non2xx + figures.errors + figures.timeouts;
        line.push(`${target.id} ${fmt(figures.reqPerSec)}`);
        await sleep(200);
      }
      log(`  round ${round + 1}/${ROUNDS}: ${line.join(', ')} req/s`);
    }
  } finally {
    await Promise.all(live.map((target) => target.child.stop()));
  }
  for (const result of results.values()) {
    result.median = {
      reqPerSec: median(result.rounds.map((r) => r.reqPerSec)),
      p99: median(result.rounds.map((r) => r.p99)),
      cpuMicrosPerRequest: median(result.rounds.map((r) => r.cpuMicrosPerRequest)),
    };
  }
  return [...results.values()];
}

interface Ratio {
  name: string;
  numerator: string;
  denominator: string;
  target: number;
  /** Ratio of the two medians: the headline figure. */
  value: number;
  /** Round by round (the two ran seconds apart in the same round). */
  rounds: number[];
  medianOfRounds: number;
  /** The same ratio from server CPU time per request (denominator's / numerator's): what it would be if CPU were the only limit. */
  cpuValue: number;
  judgedBy: string;
  met: boolean;
}

/**
 * numerator / denominator. Met when both the req/s medians and the CPU per
 * request say so (req/s alone moves with whatever else the machine runs);
 * `cpuOnly` for a comparison the issue states by CPU per request alone.
 */
function ratio(
  results: TargetResult[],
  numerator: string,
  denominator: string,
  target: number,
  cpuOnly = false,
): Ratio | undefined {
  const a = results.find((r) => r.id === numerator);
  const b = results.find((r) => r.id === denominator);
  if (!a || !b) return undefined;
  const value = a.median.reqPerSec / b.median.reqPerSec;
  const rounds = a.rounds.map((r, i) => r.reqPerSec / b.rounds[i].reqPerSec);
  const cpuValue = b.median.cpuMicrosPerRequest / a.median.cpuMicrosPerRequest;
  return {
    name: `(${numerator})/(${denominator})`,
    numerator,
    denominator,
    target,
    value,
    rounds,
    medianOfRounds: median(rounds),
    cpuValue,
    judgedBy: cpuOnly ? 'CPU/request' : 'req/s and CPU/request',
    met: cpuValue >= target && (cpuOnly || value >= target),
  };
}

// ---------------------------------------------------------------- scenario 2: memory

interface MemoryRound {
  revoked: number;
  heapUsed: number;
  rss: number;
  initMs: number;
  bootMs: number;
  memory: MemoryFigures;
}

async function memory(files: Map<number, string>): Promise<MemoryRound[]> {
  const rounds: MemoryRound[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const line: string[] = [];
    for (const revoked of MEMORY_SIZES) {
      const child = new Child(`memory-${revoked}`, SERVER_SCRIPT, {
        kind: 'revocable',
        sqliteFile: files.get(revoked),
        mode: 'denylist',
        memoryOnly: true,
      });
      try {
        const ready = await child.ask('ready', undefined, BOOT_TIMEOUT);
        if (ready.revokedTokens !== revoked)
          throw new Error(`loaded ${ready.revokedTokens} revoked tokens, expected ${revoked}`);
        rounds.push({
          revoked,
          heapUsed: ready.memory.heapUsed,
          rss: ready.memory.rss,
          initMs: ready.initMs,
          bootMs: ready.bootMs,
          memory: ready.memory,
        });
        line.push(`${fmt(revoked)}: heap ${fmt(ready.memory.heapUsed / MB, 1)} MB, init ${fmt(ready.initMs)} ms`);
      } finally {
        await child.stop();
      }
    }
    log(`  round ${round + 1}/${ROUNDS}: ${line.join('; ')}`);
  }
  return rounds;
}

/** Targets of issue 13, judged on the 1M size (or the largest measured if 1M is not). */
const MEMORY_TARGETS = { heapMB: 100, rssMB: 120, peakRatio: 1.2, initMs: 2000 };

interface MemorySize {
  revoked: number;
  rounds: MemoryRound[];
  median: {
    heapUsed: number;
    rss: number;
    maxRss: number;
    /** Peak RSS during the boot over the RSS after it, round by round. */
    peakRatio: number;
    initMs: number;
    bootMs: number;
  };
  /** Growth over the 0 process booted in the same round, per 1M revoked jtis, MB: medians of the paired rounds. */
  perMillion?: { heapUsedMB: number; rssMB: number };
}

interface MemorySummary {
  sizes: MemorySize[];
  /** The size the targets are judged on. */
  judged: number;
  targets: typeof MEMORY_TARGETS;
}

function memorySummary(rounds: MemoryRound[]): MemorySummary {
  const base = rounds.filter((r) => r.revoked === 0);
  const sizes = MEMORY_SIZES.map((revoked): MemorySize => {
    const own = rounds.filter((r) => r.revoked === revoked);
    const size: MemorySize = {
      revoked,
      rounds: own,
      median: {
        heapUsed: median(own.map((r) => r.heapUsed)),
        rss: median(own.map((r) => r.rss)),
        maxRss: median(own.map((r) => r.memory.maxRss)),
        peakRatio: median(own.map((r) => r.memory.maxRss / r.rss)),
        initMs: median(own.map((r) => r.initMs)),
        bootMs: median(own.map((r) => r.bootMs)),
      },
    };
    if (revoked > 0) {
      // Paired per round: this process minus the 0 process booted seconds before it.
      const per = (pick: (r: MemoryRound) => number) =>
        median(own.map((r, i) => ((pick(r) - pick(base[i])) * 1_000_000) / revoked / MB));
      size.perMillion = { heapUsedMB: per((r) => r.heapUsed), rssMB: per((r) => r.rss) };
    }
    return size;
  });
  const judged = MEMORY_SIZES.includes(1_000_000) ? 1_000_000 : MEMORY_SIZES[MEMORY_SIZES.length - 1];
  return { sizes, judged, targets: MEMORY_TARGETS };
}

// ---------------------------------------------------------------- scenario 3: issuance

type IssuanceDatabase = IssuanceConfig['database'];

interface IssuanceResult {
  database: IssuanceDatabase;
  /** SQLite only: 'wal' (journal_mode=WAL, synchronous=NORMAL, as the sample opens it) or 'delete' (SQLite's default). */
  journal?: 'wal' | 'delete';
  operation: 'issue' | 'refresh';
  concurrency: number;
  /** Successful calls per second, by round. */
  rounds: Array<{ perSecond: number; count: number; errors: number; ms: number; firstError?: string }>;
  median: number;
  /** The target of issue 13, if any: SQLite (WAL) 2,000/s and PostgreSQL 2,500/s with 16 in flight. */
  target?: number;
  errors: number;
  firstError?: string;
  skipped?: string;
}

const ISSUANCE_TARGETS: Partial<Record<IssuanceDatabase, number>> = { sqlite: 2000, postgres: 2500 };

function issuanceLabel(r: IssuanceResult): string {
  const db =
    r.database === 'sqlite'
      ? `SQLite (${r.journal === 'wal' ? 'WAL' : 'rollback journal'})`
      : r.database === 'postgres'
        ? 'PostgreSQL'
        : 'MariaDB';
  return `${r.operation}() on ${db}, ${r.concurrency} in flight`;
}

/**
 * issue() and refresh() with ISSUE_CONCURRENCY calls in flight on SQLite in
 * WAL mode (as the sample runs it), PostgreSQL and MariaDB; issue() on SQLite
 * in its default rollback-journal mode, and with one call at a time (WAL).
 * TypeORM's better-sqlite3 driver has a single connection: the store makes
 * SQLite transactions take turns, so 16 in flight there measures that queue.
 * Rounds interleave every row; each database is one process (both operations).
 */
async function issuance(
  sqliteFiles: { wal: string; journal: string; serial: string },
  servers: { postgres: string | null; mariadb: string | null },
  reasons: { postgres: string; mariadb: string },
): Promise<IssuanceResult[]> {
  const started: Child[] = [];
  const results: IssuanceResult[] = [];
  const plan: Array<[IssuanceResult, Child]> = [];
  const row = (
    database: IssuanceDatabase,
    operation: 'issue' | 'refresh',
    concurrency = ISSUE_CONCURRENCY,
    journal?: 'wal' | 'delete',
  ): IssuanceResult => ({
    database,
    journal,
    operation,
    concurrency,
    rounds: [],
    median: NaN,
    target: concurrency === ISSUE_CONCURRENCY && journal !== 'delete' ? ISSUANCE_TARGETS[database] : undefined,
    errors: 0,
  });
  const boot = async (name: string, config: IssuanceConfig) => {
    const child = new Child(name, ISSUANCE_SCRIPT, config);
    started.push(child);
    await child.ask('ready', undefined, BOOT_TIMEOUT);
    return child;
  };
  try {
    const wal = await boot('issuance-sqlite-wal', { database: 'sqlite', sqliteFile: sqliteFiles.wal, wal: true });
    plan.push(
      [row('sqlite', 'issue', ISSUE_CONCURRENCY, 'wal'), wal],
      [row('sqlite', 'refresh', ISSUE_CONCURRENCY, 'wal'), wal],
    );
    for (const database of ['postgres', 'mariadb'] as const) {
      const url = servers[database];
      if (url === null) {
        for (const operation of ['issue', 'refresh'] as const)
          results.push({ ...row(database, operation), skipped: reasons[database] });
        continue;
      }
      const child = await boot(
        `issuance-${database}`,
        database === 'postgres' ? { database, postgresUrl: url } : { database, mariadbUrl: url },
      );
      plan.push([row(database, 'issue'), child], [row(database, 'refresh'), child]);
    }
    const journal = await boot('issuance-sqlite-journal', { database: 'sqlite', sqliteFile: sqliteFiles.journal });
    plan.push([row('sqlite', 'issue', ISSUE_CONCURRENCY, 'delete'), journal]);
    // Its own process and file: one call at a time, what the log write costs without the queue.
    const serial = await boot('issuance-sqlite-serial', {
      database: 'sqlite',
      sqliteFile: sqliteFiles.serial,
      wal: true,
    });
    plan.push([row('sqlite', 'issue', 1, 'wal'), serial]);
    for (const [result, child] of plan) {
      const request = {
        type: 'issue',
        seconds: 1,
        concurrency: result.concurrency,
        operation: result.operation,
      } as const;
      await child.ask('issued', request); // warm-up
    }
    for (let round = 0; round < ROUNDS; round++) {
      const line: string[] = [];
      for (let i = 0; i < plan.length; i++) {
        const [result, child] = plan[(i + round) % plan.length];
        const run = await child.ask(
          'issued',
          { type: 'issue', seconds: ISSUE_SECONDS, concurrency: result.concurrency, operation: result.operation },
          (ISSUE_SECONDS + 60) * 1000,
        );
        const perSecond = run.count / (run.ms / 1000);
        result.rounds.push({ perSecond, count: run.count, errors: run.errors, ms: run.ms, firstError: run.firstError });
        result.errors += run.errors;
        result.firstError ??= run.firstError;
        line.push(
          `${result.operation} ${result.database}${result.journal === 'delete' ? '(journal)' : ''}×${result.concurrency} ${fmt(perSecond)}/s${run.errors ? ` (${run.errors} failed)` : ''}`,
        );
      }
      log(`  round ${round + 1}/${ROUNDS}: ${line.join(', ')}`);
    }
  } finally {
    await Promise.all(started.map((child) => child.stop()));
  }
  for (const [result] of plan) result.median = median(result.rounds.map((r) => r.perSecond));
  const order = (r: IssuanceResult) =>
    ['sqlite', 'postgres', 'mariadb'].indexOf(r.database) * 10 +
    (r.journal === 'delete' ? 4 : 0) +
    (r.concurrency === 1 ? 5 : 0) +
    (r.operation === 'refresh' ? 1 : 0);
  return [...plan.map(([result]) => result), ...results].sort((x, y) => order(x) - order(y));
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = Date.now();
  const loadStart = loadavg();
  tempDir = mkdtempSync(join(tmpdir(), 'jwt-revocation-bench-'));
  log(
    `nestjs-jwt-revocation bench: ${ROUNDS} rounds, ${SECONDS} s per run, ${CONNECTIONS} connections; temp dir ${tempDir}`,
  );
  if (ONLY.size < SCENARIOS.length) log(`BENCH_ONLY: ${[...ONLY].join(', ')}`);

  // Databases. SQLite files: one per denylist size, one for allowlist, one for issuance.
  log('preparing databases');
  const files = new Map<number, string>();
  const revokedSample = new Map<number, string | undefined>();
  // Scenarios 1 and 2 read these files; seeding 1M rows takes a while, so only for them.
  const seeded = new Set<number>([...(runs('throughput') ? SIZES : []), ...(runs('memory') ? MEMORY_SIZES : [])]);
  for (const revoked of [...seeded].sort((a, b) => a - b)) {
    const file = join(tempDir, `denylist-${revoked}.sqlite`);
    await createSqliteSchema(file);
    const t0 = performance.now();
    revokedSample.set(revoked, seedRevoked(file, revoked));
    if (revoked) log(`  seeded ${fmt(revoked)} revoked jtis in ${fmt(performance.now() - t0)} ms`);
    files.set(revoked, file);
  }
  const allowlistFile = join(tempDir, 'allowlist.sqlite');
  await createSqliteSchema(allowlistFile);

  let postgres = false;
  let postgresReason = '';
  try {
    await ensurePostgresDatabase(POSTGRES_URL);
    await preparePostgresTokenLog(POSTGRES_URL);
    postgres = true;
  } catch (error) {
    postgresReason = `not measured: PostgreSQL unavailable (${(error as Error).message})`;
    log(`  ${postgresReason}`);
  }
  let mariadb = false;
  let mariadbReason = '';
  if (runs('issuance')) {
    try {
      await ensureMariadbDatabase(MARIADB_URL);
      mariadb = true;
    } catch (error) {
      mariadbReason = `not measured: MariaDB unavailable (${(error as Error).message})`;
      log(`  ${mariadbReason}`);
    }
  }

  const targets: Target[] = [
    { id: 'a', label: 'no guard', config: { kind: 'none' } },
    { id: 'b', label: "AuthGuard('jwt'), passport-jwt, string secret", config: { kind: 'passport-string' } },
    { id: 'c', label: "AuthGuard('jwt'), passport-jwt, KeyObject", config: { kind: 'passport-key' } },
    ...SIZES.map((revoked) => ({
      id: `d${revoked === 0 ? '0' : revoked === 100_000 ? '100k' : '1M'}`,
      label: `RevocableJwtGuard denylist, ${fmt(revoked)} revoked jtis`,
      config: { kind: 'revocable', sqliteFile: files.get(revoked), mode: 'denylist' } as ServerConfig,
      revoked,
      revokedJti: revokedSample.get(revoked),
    })),
    {
      // Every run presents one token, so (d) is the cache's hit path; this is every request a miss.
      id: 'd0nc',
      label: 'RevocableJwtGuard denylist, 0 revoked, verifiedTokenCacheSize 0',
      config: { kind: 'revocable', sqliteFile: files.get(0), mode: 'denylist', verifiedTokenCacheSize: 0 },
      revoked: 0,
    },
    {
      id: 'e',
      label: 'RevocableJwtGuard allowlist (jti active)',
      config: { kind: 'revocable', sqliteFile: allowlistFile, mode: 'allowlist' },
      revoked: 0,
    },
  ];
  if (postgres)
    targets.push({
      id: 'f',
      label: 'naive: passport-jwt KeyObject + PostgreSQL query per request',
      config: { kind: 'naive-pg', postgresUrl: POSTGRES_URL },
    });

  if (runs('throughput')) log('scenario 1: request throughput');
  const throughputResults = runs('throughput') ? await throughput(targets) : [];
  // Issue 13's targets: ahead of the best stateless guard, and revocation state that costs nothing per request.
  const ratios = [
    ratio(throughputResults, 'd0', 'c', 1.1),
    ratio(throughputResults, 'd0', 'b', 2.5),
    ratio(throughputResults, 'd0', 'a', 0.8),
    ratio(throughputResults, 'd1M', 'd0', 0.97, true),
    // No target: what the cache is worth, and where the guard stands without it.
    ratio(throughputResults, 'd0nc', 'c', 0),
  ].filter((r): r is Ratio => r !== undefined);

  if (runs('memory')) log('scenario 2: memory and boot load');
  const memoryReport = runs('memory') ? memorySummary(await memory(files)) : undefined;

  if (runs('issuance')) log('scenario 3: issuance');
  const issuanceResults = runs('issuance')
    ? await issuance(
        {
          wal: join(tempDir, 'issuance-wal.sqlite'),
          journal: join(tempDir, 'issuance-journal.sqlite'),
          serial: join(tempDir, 'issuance-serial.sqlite'),
        },
        { postgres: postgres ? POSTGRES_URL : null, mariadb: mariadb ? MARIADB_URL : null },
        { postgres: postgresReason, mariadb: mariadbReason },
      )
    : [];

  const notMeasured: Array<{ scenario: string; status: string }> = [];
  let archive: ArchiveFigures | undefined;
  if (runs('archive') && postgres) {
    try {
      archive = await archiveScenario(POSTGRES_URL, ARCHIVE_ROWS, ARCHIVE_BATCH, log);
    } catch (error) {
      notMeasured.push({ scenario: '4. archive sweep', status: `failed: ${(error as Error).message}` });
    }
  } else if (runs('archive')) {
    notMeasured.push({ scenario: '4. archive sweep', status: postgresReason });
  }

  const propagation: PropagationFigures[] = [];
  if (runs('propagation') && postgres) {
    log(`scenario 5: propagation between two sample processes (SYNC_INTERVAL ${SYNC_INTERVAL} s)`);
    const modes: Array<['redis' | 'notify' | 'poll', number]> = [
      ['redis', PUSH_SAMPLES],
      ['notify', PUSH_SAMPLES],
      ['poll', POLL_SAMPLES],
    ];
    for (const [mode, samples] of modes) {
      if (mode === 'redis' && !REDIS_URL) {
        notMeasured.push({ scenario: '5. propagation, redis', status: 'not measured: BENCH_REDIS_URL unset' });
        continue;
      }
      try {
        log(`  ${mode}: ${samples} revocations`);
        propagation.push(
          await propagationScenario(
            ROOT,
            mode,
            { DATABASE_URL: POSTGRES_URL, REDIS_URL, SYNC_INTERVAL: String(SYNC_INTERVAL) },
            samples,
          ),
        );
      } catch (error) {
        notMeasured.push({ scenario: `5. propagation, ${mode}`, status: `failed: ${(error as Error).message}` });
      }
    }
  } else if (runs('propagation')) {
    notMeasured.push({ scenario: '5. propagation between instances', status: postgresReason });
  }

  const cpuList = cpus();
  const report = {
    date: new Date(started).toISOString(),
    node: process.version,
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    platform: `${process.platform} ${process.arch}`,
    loadAverage: { start: loadStart, end: loadavg() },
    durationSeconds: Math.round((Date.now() - started) / 1000),
    scenarios: [...ONLY],
    settings: {
      rounds: ROUNDS,
      seconds: SECONDS,
      warmup: WARMUP,
      connections: CONNECTIONS,
      issueSeconds: ISSUE_SECONDS,
      issueConcurrency: ISSUE_CONCURRENCY,
      postgresUrl: POSTGRES_URL,
      mariadbUrl: MARIADB_URL,
    },
    throughput: {
      targets: throughputResults,
      ratios,
      skipped: postgres ? [] : [`(f) naive guard with a PostgreSQL query: ${postgresReason}`],
    },
    memory: memoryReport,
    issuance: issuanceResults,
    archive,
    propagation: { syncInterval: SYNC_INTERVAL, modes: propagation },
    notMeasured,
  };

  const markdown = renderMarkdown(report);
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(RESULTS_DIR, 'latest.md'), markdown);
  process.stdout.write(markdown);
  log(`written: ${join(RESULTS_DIR, 'latest.md')}, ${join(RESULTS_DIR, 'latest.json')} (${report.durationSeconds} s)`);
}

type Report = {
  date: string;
  node: string;
  cpus: number;
  cpuModel: string;
  platform: string;
  loadAverage: { start: number[]; end: number[] };
  durationSeconds: number;
  scenarios: Scenario[];
  throughput: { targets: TargetResult[]; ratios: Ratio[]; skipped: string[] };
  memory?: MemorySummary;
  issuance: IssuanceResult[];
  archive?: ArchiveFigures;
  propagation: { syncInterval: number; modes: PropagationFigures[] };
  notMeasured: Array<{ scenario: string; status: string }>;
};

function renderMarkdown(report: Report): string {
  const out: string[] = [];
  const { targets, ratios } = report.throughput;
  const byId = (id: string) => targets.find((t) => t.id === id);
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  out.push('# nestjs-jwt-revocation benchmark', '');
  out.push(
    `${report.date} · Node ${report.node} · ${report.cpus} CPUs (${report.cpuModel}) · ${report.platform} · ` +
      `load average ${load(report.loadAverage.start)} at start, ${load(report.loadAverage.end)} at end · ` +
      `figures are medians of ${ROUNDS} rounds (every round in latest.json) · ${report.durationSeconds} s`,
    '',
  );

  out.push('## Summary', '', '| scenario | figure | target | |', '| --- | --- | --- | --- |');
  for (const r of ratios) {
    out.push(
      `| 1. throughput ${r.name} | ${r.value.toFixed(2)}× by req/s (round by round ${r.medianOfRounds.toFixed(2)}×), ${r.cpuValue.toFixed(2)}× by CPU/request | ${r.target ? `≥ ${r.target}× by ${r.judgedBy}` : '-'} | ${r.target ? verdict(r.met) : ''} |`,
    );
  }
  const ran = (scenario: Scenario) => report.scenarios.includes(scenario);
  // Lines of a scenario BENCH_ONLY left out are dropped after they are written (out.length = mark).
  let mark = out.length;
  const mem = report.memory;
  const judged = mem?.sizes.find((size) => size.revoked === mem.judged);
  if (mem && judged?.perMillion) {
    const t = mem.targets;
    const per = judged.perMillion;
    const at = `at ${fmt(judged.revoked)}`;
    out.push(
      `| 2. RSS growth per 1M revoked jtis (${at}) | ${fmt(per.rssMB, 1)} MB (heap used ${fmt(per.heapUsedMB, 1)} MB) | ≤ ${t.rssMB} MB | ${verdict(per.rssMB <= t.rssMB)} |`,
      `| 2. heap used growth per 1M revoked jtis (${at}) | ${fmt(per.heapUsedMB, 1)} MB | ≤ ${t.heapMB} MB | ${verdict(per.heapUsedMB <= t.heapMB)} |`,
      `| 2. peak RSS during boot / RSS after (${at}) | ${judged.median.peakRatio.toFixed(2)}× | ≤ ${t.peakRatio}× | ${verdict(judged.median.peakRatio <= t.peakRatio)} |`,
      `| 2. boot load, app.init() (${at}) | ${fmt(judged.median.initMs)} ms | ≤ ${fmt(t.initMs)} ms | ${verdict(judged.median.initMs <= t.initMs)} |`,
    );
  }
  for (const r of report.issuance) {
    const failed = r.errors ? ` (+ ${fmt(r.errors)} failed calls)` : '';
    const target = r.target === undefined ? '-' : `≥ ${fmt(r.target)} /s`;
    const met = r.target === undefined || r.skipped ? '' : verdict(r.median >= r.target);
    out.push(`| 3. ${issuanceLabel(r)} | ${r.skipped ?? `${fmt(r.median)} /s${failed}`} | ${target} | ${met} |`);
  }
  for (const n of report.notMeasured) out.push(`| ${n.scenario} | ${n.status} | - | |`);
  out.push('');

  mark = out.length;
  out.push(
    `## 1. Request throughput: GET /ping, autocannon, ${CONNECTIONS} connections, ${SECONDS} s per run, rounds interleaved`,
    '',
    '| target | req/s | p99 ms | server CPU µs/request | req/s by round | failed requests |',
    '| --- | ---: | ---: | ---: | --- | ---: |',
  );
  for (const t of targets) {
    out.push(
      `| (${t.id}) ${t.label} | ${fmt(t.median.reqPerSec)} | ${fmt(t.median.p99, 1)} | ${fmt(t.median.cpuMicrosPerRequest)} | ${t.rounds.map((r) => fmt(r.reqPerSec)).join(', ')} | ${t.failures} |`,
    );
  }
  for (const skipped of report.throughput.skipped) out.push(`| ${skipped} | | | | | |`);
  out.push(
    '',
    '| ratio | req/s medians | median of round-by-round ratios | from server CPU µs/request | target | judged by | |',
    '| --- | ---: | ---: | ---: | --- | --- | --- |',
  );
  for (const r of ratios) {
    out.push(
      `| ${r.name} | ${r.value.toFixed(2)} | ${r.medianOfRounds.toFixed(2)} | ${r.cpuValue.toFixed(2)} | ${r.target ? `≥ ${r.target}` : '-'} | ${r.target ? r.judgedBy : ''} | ${r.target ? verdict(r.met) : ''} |`,
    );
  }
  const a = byId('a');
  if (a)
    out.push('', `For scale: (c)/(a) = ${(byId('c')!.median.reqPerSec / a.median.reqPerSec).toFixed(2)} by req/s.`);
  out.push('');
  if (!ran('throughput')) out.length = mark;

  if (mem) {
    out.push(
      '## 2. Memory of the denylist process after boot (forced gc)',
      '',
      '| revoked jtis | heap used MB | RSS MB | peak RSS MB | peak / RSS | growth per 1M, heap / RSS MB | app.init() ms (boot load) | whole boot ms |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const s of mem.sizes) {
      const per = s.perMillion ? `${fmt(s.perMillion.heapUsedMB, 1)} / ${fmt(s.perMillion.rssMB, 1)}` : '-';
      out.push(
        `| ${fmt(s.revoked)} | ${fmt(s.median.heapUsed / MB, 1)} | ${fmt(s.median.rss / MB, 1)} | ${fmt(s.median.maxRss / MB, 1)} | ${s.median.peakRatio.toFixed(2)} | ${per} | ${fmt(s.median.initMs)} | ${fmt(s.median.bootMs)} |`,
      );
    }
    out.push(
      '',
      `Growth per 1M is paired round by round with the 0 process (median of the rounds). Targets at ${fmt(mem.judged)}: RSS growth ≤ ${mem.targets.rssMB} MB, heap used ≤ ${mem.targets.heapMB} MB, peak ≤ ${mem.targets.peakRatio}× the RSS after boot, app.init() ≤ ${fmt(mem.targets.initMs)} ms (see the summary).`,
      '',
    );
  }

  if (ran('issuance')) {
    out.push(
      `## 3. Issuance: TokenLogService.issue() (sign + token log write) and refresh() (rotation), ${ISSUE_SECONDS} s per run, rounds interleaved`,
      '',
      '| call, database, in flight | successful calls/s | target | by round | failed calls | first error |',
      '| --- | ---: | --- | --- | ---: | --- |',
    );
    for (const r of report.issuance) {
      const target = r.target === undefined ? '-' : `≥ ${fmt(r.target)}: ${verdict(r.median >= r.target)}`;
      if (r.skipped) out.push(`| ${issuanceLabel(r)} | ${r.skipped} | | | | |`);
      else {
        const error = (r.firstError ?? '').replace(/\|/g, '/').slice(0, 120);
        out.push(
          `| ${issuanceLabel(r)} | ${fmt(r.median)} | ${target} | ${r.rounds.map((x) => fmt(x.perSecond)).join(', ')} | ${fmt(r.errors)} | ${error} |`,
        );
      }
    }
  }
  if (report.archive) {
    const ar = report.archive;
    out.push(
      '',
      `## 4. Archive sweep on PostgreSQL: ${fmt(ar.rows)} expired rows, batches of ${fmt(ar.batchSize)}`,
      '',
      `Swept in ${fmt(ar.sweepMs / 1000, 1)} s (${fmt(ar.rowsPerSecond)} rows/s), one run. Beside it, 4 issue() calls in flight (sign + log write: the database part of a login):`,
      '',
      '| | issue() p50 ms | issue() p99 ms | calls |',
      '| --- | ---: | ---: | ---: |',
      `| idle (5 s) | ${fmt(ar.idle.p50, 1)} | ${fmt(ar.idle.p99, 1)} | ${fmt(ar.idle.calls)} |`,
      `| during the sweep | ${fmt(ar.duringSweep.p50, 1)} | ${fmt(ar.duringSweep.p99, 1)} | ${fmt(ar.duringSweep.calls)} |`,
    );
  }
  if (report.propagation.modes.length) {
    out.push(
      '',
      `## 5. Propagation: logout on instance A until instance B answers 401 (two sample processes, PostgreSQL, syncInterval ${report.propagation.syncInterval} s)`,
      '',
      '| mode | revocations | p50 ms | p99 ms | max ms |',
      '| --- | ---: | ---: | ---: | ---: |',
    );
    for (const p of report.propagation.modes)
      out.push(`| ${p.mode} | ${p.samples} | ${fmt(p.p50, 1)} | ${fmt(p.p99, 1)} | ${fmt(p.max, 1)} |`);
  }
  if (report.notMeasured.length) {
    out.push('', '## Not measured', '', '| scenario | result |', '| --- | --- |');
    for (const n of report.notMeasured) out.push(`| ${n.scenario} | ${n.status} |`);
  }
  out.push('');
  return out.join('\n');
}

main().catch((error: Error) => {
  log(`bench failed: ${error.stack ?? error.message}`);
  cleanUp();
  process.exit(1);
});
