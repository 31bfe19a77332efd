/**
 * Database preparation for the harness: SQLite files holding the module's
 * tables (and, for the denylist targets, N revoked unexpired access tokens),
 * and the PostgreSQL and MariaDB bench databases.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { jwtRevocationEntities } from 'nestjs-jwt-revocation';
import { DataSource } from 'typeorm';
import { FIXED_JTI } from './common.js';

/** The few better-sqlite3 calls used here (its types are not installed). */
interface SqliteStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  pragma(sql: string): unknown;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): void;
}
const require = createRequire(import.meta.url);
const Sqlite = require('better-sqlite3') as new (file: string) => SqliteDatabase;

/** Creates the module's four tables in a new SQLite file, the way an app does at first boot (synchronize). */
export async function createSqliteSchema(file: string): Promise<void> {
  const source = new DataSource({
    type: 'better-sqlite3',
    database: file,
    entities: jwtRevocationEntities(),
    synchronize: true,
  });
  await source.initialize();
  await source.destroy();
}

/**
 * Inserts `count` revoked access tokens straight into jwt_token_log, in one
 * transaction, in issuing order: their expiries spread evenly over the
 * second hour from now (none expires while the bench runs), as the revoked
 * tokens of a live app's log are, not all on one millisecond. The app's boot load then fills its memory from
 * them. Returns one of the seeded jtis (a token naming it must be refused).
 */
export function seedRevoked(file: string, count: number): string | undefined {
  if (count === 0) return undefined;
  const db = new Sqlite(file);
  try {
    db.pragma('synchronous = OFF');
    const insert = db.prepare(
      `INSERT INTO jwt_token_log (jti, subject, token_type, session_id, subject_version, issued_at, expires_at,
         revoked_at, revoke_reason, user_agent, ip, claims, token_hash, parent_jti, spent_at)
       VALUES (?, ?, 'access', ?, 0, ?, ?, ?, 'logout', NULL, NULL, NULL, NULL, NULL, NULL)`,
    );
    const now = Date.now();
    const issuedAt = now - 60_000;
    const spread = 3_600_000;
    let sample: string | undefined;
    db.transaction(() => {
      // jtis and session ids as the library makes them: 16 random bytes, base64url (22 characters).
      const chunk = 4096;
      for (let done = 0; done < count; done += chunk) {
        const n = Math.min(chunk, count - done);
        const bytes = randomBytes(32 * n);
        for (let i = 0; i < n; i++) {
          const jti = bytes.toString('base64url', 32 * i, 32 * i + 16);
          const sid = bytes.toString('base64url', 32 * i + 16, 32 * i + 32);
          const expiresAt = now + 3_600_000 + Math.floor(((done + i) * spread) / count);
          insert.run(jti, `user-${(done + i) % 100_000}`, sid, issuedAt, expiresAt, now - 1000);
          sample ??= jti;
        }
      }
    })();
    const { n } = db.prepare('SELECT count(*) AS n FROM jwt_token_log WHERE revoked_at IS NOT NULL').get() as {
      n: number;
    };
    if (n !== count) throw new Error(`seeded ${n} rows instead of ${count}`);
    return sample;
  } finally {
    db.close();
  }
}

/** Creates the bench database if it is missing. */
export async function ensurePostgresDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`unexpected database name "${name}"`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const source = new DataSource({ type: 'postgres', url: admin.toString(), connectTimeoutMS: 5000 });
  await source.initialize();
  try {
    const rows = (await source.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])) as unknown[];
    if (rows.length === 0) await source.query(`CREATE DATABASE "${name}"`);
  } finally {
    await source.destroy();
  }
}

/** Creates the MariaDB bench database if it is missing (scenario 3). */
export async function ensureMariadbDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`unexpected database name "${name}"`);
  const source = new DataSource({
    type: 'mariadb',
    host: target.hostname,
    port: Number(target.port || 3306),
    username: decodeURIComponent(target.username),
    password: decodeURIComponent(target.password),
    connectTimeout: 5000,
  });
  await source.initialize();
  try {
    await source.query(`CREATE DATABASE IF NOT EXISTS \`${name}\``);
  } finally {
    await source.destroy();
  }
}

/**
 * For (f): the module's tables in the bench database, fresh, with the row of
 * the token the load generator sends and some others around it.
 */
export async function preparePostgresTokenLog(url: string): Promise<void> {
  const source = new DataSource({
    type: 'postgres',
    url,
    entities: jwtRevocationEntities(),
    dropSchema: true,
    synchronize: true,
  });
  await source.initialize();
  try {
    const now = Date.now();
    await source.query(
      `INSERT INTO jwt_token_log (jti, subject, token_type, session_id, subject_version, issued_at, expires_at)
       SELECT 'filler-' || g, 'user-' || (g % 1000), 'access', 'sid-' || g, 0, $1, $2 FROM generate_series(1, 10000) AS g`,
      [now, now + 3_600_000],
    );
    await source.query(
      `INSERT INTO jwt_token_log (jti, subject, token_type, session_id, subject_version, issued_at, expires_at)
       VALUES ($1, 'bench-user', 'access', 'bench-session', 0, $2, $3)`,
      [FIXED_JTI, now, now + 3_600_000],
    );
    await source.query('ANALYZE jwt_token_log');
  } finally {
    await source.destroy();
  }
}
