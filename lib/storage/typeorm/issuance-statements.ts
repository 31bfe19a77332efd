import type { DataSource, EntityManager, EntityMetadata, QueryDeepPartialEntity } from 'typeorm';
import type { SessionRecord, TokenRecord } from '../../interfaces/token-record.interface.js';
import type { JwtRevocationEntitySet } from './entities/jwt-revocation.entities.js';
import { Statement, TableSql } from './table-sql.js';
import { rowLock } from './transactions.js';

/** The subject's counters, and on SQLite how many live sessions it holds (read in the same statement). */
export interface LockedSubject {
  tokenVersion: number;
  epoch: number;
  live: number | null;
}

/** A refresh token's row, its session's and its subject's current token version, read in one statement. */
export interface PresentedRefresh {
  presented: TokenRecord;
  session: SessionRecord | null;
  subjectVersion: number;
}

/**
 * `SELECT COUNT(*) AS live` of a subject's live sessions (unrevoked, expiring
 * after `now`), given the placeholders of the subject and of `now`.
 */
export function liveCount(sql: TableSql, session: EntityMetadata, subject: string, now: string): string {
  return (
    `SELECT COUNT(*) AS live FROM ${sql.table(session)} WHERE ${sql.column(session, 'subject')} = ${subject}` +
    ` AND ${sql.column(session, 'revokedAt')} IS NULL AND ${sql.column(session, 'expiresAt')} > ${now}`
  );
}

/**
 * The statements of a login's transaction (and of a refresh's new pair)
 * written as SQL, not built by TypeORM's query builder on every call: a login
 * is the hot write path, and the builder cost more CPU than the database did
 * (on SQLite, it also inlined numbers into the SQL, so every statement was
 * prepared anew). On PostgreSQL most logins and refreshes are one statement
 * instead (PostgresStatements); the transaction is what the others run.
 *
 * Per login: the subject's row (locked on PostgreSQL and MariaDB), the count
 * of its live sessions for the cap, the session row, and the token rows in
 * one multi-row insert. PostgreSQL runs the count and both inserts as one
 * statement (data-modifying WITH; the count sees the rows as they were before
 * the inserts), SQLite reads the count with the subject's row (its
 * transactions take turns, so nothing moves between the two). MariaDB has no
 * data-modifying WITH, and a count inside its locking read would lock the
 * subject's sessions too (and read them outside the transaction's snapshot):
 * it sends each. A refresh reads its token, session and subject's version in
 * one statement (`findRefresh`) and writes its pair in one insert.
 */
export class IssuanceStatements {
  private readonly sql: TableSql;
  private readonly postgres: boolean;
  private readonly sqlite: boolean;
  /** Row locks on PostgreSQL and MariaDB (see rowLock). */
  private readonly locks: boolean;

  constructor(
    dataSource: DataSource,
    private readonly entities: JwtRevocationEntitySet,
  ) {
    this.sql = new TableSql(dataSource);
    const type = dataSource.options.type;
    this.postgres = type === 'postgres';
    this.sqlite = type === 'better-sqlite3';
    this.locks = rowLock(dataSource) !== undefined;
  }

  /**
   * The subject's row, locked until commit on PostgreSQL and MariaDB; null
   * for a subject never seen. PostgreSQL takes it with an update that
   * changes nothing but makes a new row version: a login in one statement
   * (PostgresStatements) that read the sessions before this transaction
   * committed then sees the row moved, and comes here instead of trusting
   * its count.
   */
  async lockSubject(em: EntityManager, subject: string, now: number): Promise<LockedSubject | null> {
    const m = this.sql.meta(this.entities.subjectState);
    const sql = new Statement(this.postgres);
    const version = this.sql.column(m, 'tokenVersion');
    const epoch = this.sql.column(m, 'epoch');
    // In the order of the text: SQLite's placeholders are positional.
    const live = this.sqlite
      ? `, (${liveCount(this.sql, this.sql.meta(this.entities.session), sql.param(subject), sql.param(now))}) AS live`
      : '';
    const where = `${this.sql.column(m, 'subject')} = ${sql.param(subject)}`;
    const query = this.postgres
      ? `WITH m AS (UPDATE ${this.sql.table(m)} SET ${version} = ${version} WHERE ${where}` +
        ` RETURNING ${version} AS token_version, ${epoch} AS epoch) SELECT token_version, epoch FROM m`
      : `SELECT ${version} AS token_version, ${epoch} AS epoch${live} FROM ${this.sql.table(m)} WHERE ${where}` +
        (this.locks ? ' FOR UPDATE' : '');
    const rows = (await em.query(query, sql.params)) as Array<{
      token_version: unknown;
      epoch: unknown;
      live?: unknown;
    }>;
    const row = rows[0];
    if (!row) return null;
    return {
      tokenVersion: Number(row.token_version),
      epoch: Number(row.epoch),
      live: row.live === undefined ? null : Number(row.live),
    };
  }

  /**
   * Writes the session and its token rows; returns how many live sessions
   * the subject held before this one (`live` when the caller read it already).
   */
  async insertSession(
    em: EntityManager,
    session: SessionRecord,
    tokens: QueryDeepPartialEntity<TokenRecord>[],
    live: number | null,
  ): Promise<number> {
    const sessionMeta = this.sql.meta(this.entities.session);
    const tokenMeta = this.sql.meta(this.entities.tokenLog);
    if (this.postgres) {
      const sql = new Statement(true);
      const insertSession = this.sql.insert(sql, sessionMeta, [session]);
      const insertTokens = this.sql.insert(sql, tokenMeta, tokens);
      const count = liveCount(this.sql, sessionMeta, sql.param(session.subject), sql.param(session.createdAt));
      const rows = (await em.query(
        `WITH s AS (${insertSession}), t AS (${insertTokens}) ${count}`,
        sql.params,
      )) as Array<{ live: unknown }>;
      return Number(rows[0].live);
    }
    let before = live;
    if (before === null) {
      const sql = new Statement(false);
      const count = liveCount(this.sql, sessionMeta, sql.param(session.subject), sql.param(session.createdAt));
      const rows = (await em.query(count, sql.params)) as Array<{ live: unknown }>;
      before = Number(rows[0].live);
    }
    await this.insertRows(em, sessionMeta, [session]);
    await this.insertRows(em, tokenMeta, tokens);
    return before;
  }

  /**
   * A refresh token's row by its hash, with its session's row and its
   * subject's token version: one statement instead of three. Plain reads, as
   * before: the refresh then takes the session row with a conditional update.
   */
  async findRefresh(em: EntityManager, tokenHash: string): Promise<PresentedRefresh | null> {
    const t = this.sql.meta(this.entities.tokenLog);
    const s = this.sql.meta(this.entities.session);
    const m = this.sql.meta(this.entities.subjectState);
    const escape = (name: string) => this.sql.escape(name);
    const select = (alias: string, metadata: EntityMetadata) =>
      metadata.columns.map((c) => `${alias}.${escape(c.databaseName)} AS ${escape(`${alias}_${c.databaseName}`)}`);
    const sql = new Statement(this.postgres);
    const query =
      `SELECT ${[...select('t', t), ...select('s', s), `m.${this.sql.column(m, 'tokenVersion')} AS m_version`].join(', ')}` +
      ` FROM ${this.sql.table(t)} t` +
      ` LEFT JOIN ${this.sql.table(s)} s ON s.${this.sql.column(s, 'sessionId')} = t.${this.sql.column(t, 'sessionId')}` +
      ` LEFT JOIN ${this.sql.table(m)} m ON m.${this.sql.column(m, 'subject')} = t.${this.sql.column(t, 'subject')}` +
      ` WHERE t.${this.sql.column(t, 'tokenHash')} = ${sql.param(tokenHash)}` +
      ` AND t.${this.sql.column(t, 'tokenType')} = ${sql.param('refresh')}`;
    const rows = (await em.query(query, sql.params)) as Array<Record<string, unknown>>;
    const row = rows[0];
    if (!row) return null;
    const hydrate = <T>(alias: string, metadata: EntityMetadata): T => {
      const record: Record<string, unknown> = {};
      for (const c of metadata.columns)
        record[c.propertyName] = this.sql.hydrated(c, row[`${alias}_${c.databaseName}`]);
      return record as T;
    };
    const sessionId = s.findColumnWithPropertyName('sessionId')!.databaseName;
    return {
      presented: hydrate<TokenRecord>('t', t),
      session: row[`s_${sessionId}`] == null ? null : hydrate<SessionRecord>('s', s),
      subjectVersion: row.m_version == null ? 0 : Number(row.m_version),
    };
  }

  /** Token rows (a refresh's new pair) in one statement. */
  insertTokenRows(em: EntityManager, tokens: QueryDeepPartialEntity<TokenRecord>[]): Promise<unknown> {
    return this.insertRows(em, this.sql.meta(this.entities.tokenLog), tokens);
  }

  private insertRows(em: EntityManager, metadata: EntityMetadata, rows: object[]): Promise<unknown> {
    const sql = new Statement(this.postgres);
    return em.query(this.sql.insert(sql, metadata, rows), sql.params);
  }
}
