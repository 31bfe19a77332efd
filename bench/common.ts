import { createHmac } from 'node:crypto';

/** One secret for every server under test: 48 bytes, over HS256's 32-byte minimum. */
export const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvw';

/** Lifetime of the tokens the harness makes itself: the library's default accessTokenTtl. */
export const TOKEN_TTL = 900;

/** The jti of the token sent to (b), (c) and (f); (f) finds it in its token log. */
export const FIXED_JTI = 'benchFixedJti000000001';

/** What a server child is asked to be. */
export type TargetKind = 'none' | 'passport-string' | 'passport-key' | 'revocable' | 'naive-pg';

export interface ServerConfig {
  kind: TargetKind;
  /** revocable: SQLite file (tables already created, maybe seeded). */
  sqliteFile?: string;
  mode?: 'denylist' | 'allowlist';
  /** revocable: the module's verifiedTokenCacheSize (its default when absent). */
  verifiedTokenCacheSize?: number;
  /** naive-pg: connection URL of the bench database. */
  postgresUrl?: string;
  /** revocable: report memory after boot and wait to be killed; issue no token. */
  memoryOnly?: boolean;
}

export interface IssuanceConfig {
  database: 'sqlite' | 'postgres' | 'mariadb';
  sqliteFile?: string;
  /** SQLite: journal_mode=WAL and synchronous=NORMAL, as the sample opens it. */
  wal?: boolean;
  postgresUrl?: string;
  mariadbUrl?: string;
}

export interface MemoryFigures {
  heapUsed: number;
  heapTotal: number;
  rss: number;
  external: number;
  arrayBuffers: number;
  /** Peak resident set size of the process so far (getrusage maxrss). */
  maxRss: number;
}

/** Messages from a child to the harness. */
export type ChildMessage =
  | {
      type: 'ready';
      port?: number;
      bootMs: number;
      initMs: number;
      memory: MemoryFigures;
      revokedTokens?: number;
      activeTokens?: number;
    }
  | { type: 'token'; token: string }
  | { type: 'issued'; count: number; errors: number; ms: number; firstError?: string }
  | { type: 'cpu'; micros: number }
  | { type: 'failed'; message: string };

/** Messages from the harness to a child. */
export type ParentMessage =
  | { type: 'token' }
  | { type: 'cpu' }
  | { type: 'issue'; seconds: number; concurrency: number; operation?: 'issue' | 'refresh' };

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * An HS256 access token with the library's header and claims shape
 * (typ at+jwt; sub, jti, sid, ver, iat, exp), signed with node:crypto: valid
 * for the passport-jwt strategies of (b), (c), (f) and, unless its jti is
 * revoked, for the library's guard too.
 */
export function signToken(claims: { sub: string; jti: string; sid: string; ver?: number }, ttl = TOKEN_TTL): string {
  const iat = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: 'HS256', typ: 'at+jwt' })}.${b64({ ver: 0, ...claims, iat, exp: iat + ttl })}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

export function memoryNow(): MemoryFigures {
  const { heapUsed, heapTotal, rss, external, arrayBuffers } = process.memoryUsage();
  return { heapUsed, heapTotal, rss, external, arrayBuffers, maxRss: process.resourceUsage().maxRSS * 1024 };
}

/** Answers the harness's CPU time questions (user + system, microseconds): CPU per request is less noisy than req/s. */
export function answerCpuQuestions(): void {
  process.on('message', (message: ParentMessage) => {
    if (message.type !== 'cpu') return;
    const { user, system } = process.cpuUsage();
    send({ type: 'cpu', micros: user + system });
  });
}

/** Full collections until heap used stops shrinking (needs --expose-gc). */
export async function forceGc(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the child with --expose-gc');
  let last = Infinity;
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    const used = process.memoryUsage().heapUsed;
    if (used >= last - 64 * 1024) break;
    last = used;
  }
}

/** Sends to the parent; a child whose parent is gone exits. */
export function send(message: ChildMessage): void {
  if (!process.send || !process.connected) process.exit(1);
  process.send(message);
}

/** A child ends when its harness disconnects (harness exit or crash). */
export function exitWithParent(): void {
  process.on('disconnect', () => process.exit(0));
}
