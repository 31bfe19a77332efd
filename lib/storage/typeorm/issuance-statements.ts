import type {
  DataSource,
  EntityManager,
  EntityMetadata,
  EntityTarget,
  ObjectLiteral,
  QueryDeepPartialEntity,
} from 'typeorm';
import type { SessionRecord, TokenRecord } from '../../interfaces/token-record.interface.js';
import type { JwtRevocationEntitySet } from './entities/jwt-revocation.entities.js';
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

/** A statement and its parameters; placeholders as the driver wants them (`$1` on PostgreSQL, `?` elsewhere). */
class Statement {
  readonly params: unknown[] = [];
  constructor(private readonly numbered: boolean) {}

  param(value: unknown): string {
    this.params.push(value === undefined ? null : value);
    return this.numbered ? `$${this.params.length}` : '?';
  }
}

/**
 * The statements of a login (and of a refresh's new pair) written as SQL, not
 * built by TypeORM's query builder on every call: a login is the hot write
 * path, and the builder cost more CPU than the database did (on SQLite, it
 * also inlined numbers into the SQL, so every statement was prepared anew).
 * Names come from the entities' metadata (the `tableNames` extra), values go
 * through each column's transformer, as TypeORM would write them.
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
  private readonly postgres: boolean;
  private readonly sqlite: boolean;
  /** Row locks on PostgreSQL and MariaDB (see rowLock). */
  private readonly locks: boolean;

  constructor(
    private readonly dataSource: DataSource,
    private readonly entities: JwtRevocationEntitySet,
  ) {
    const type = dataSource.options.type;
    this.postgres = type === 'postgres';
    this.sqlite = type === 'better-sqlite3';
    this.locks = rowLock(dataSource) !== undefined;
  }

  private meta(entity: EntityTarget<ObjectLiteral>): EntityMetadata {
    return this.dataSource.getMetadata(entity);
  }

  private table(metadata: EntityMetadata): string {
    return metadata.tablePath
      .split('.')
      .map((part) => this.dataSource.driver.escape(part))
      .join('.');
  }

  private column(metadata: EntityMetadata, property: string): string {
    const column = metadata.findColumnWithPropertyName(property);
    if (!column) throw new Error(`${metadata.name} has no column ${property}`);
    return this.dataSource.driver.escape(column.databaseName);
  }

  /** `SELECT COUNT(*) AS live` of the subject's live sessions: unrevoked, expiring after `now`. */
  private liveCount(sql: Statement, subject: string, now: number): string {
    const s = this.meta(this.entities.session);
    return (
      `SELECT COUNT(*) AS live FROM ${this.table(s)} WHERE ${this.column(s, 'subject')} = ${sql.param(subject)}` +
      ` AND ${this.column(s, 'revokedAt')} IS NULL AND ${this.column(s, 'expiresAt')} > ${sql.param(now)}`
    );
  }

  /** `INSERT INTO table (columns) VALUES (...), (...)`: every column of the entity, each value through its transformer. */
  private insert(sql: Statement, metadata: EntityMetadata, rows: object[]): string {
    const columns = metadata.columns.filter((c) => !c.isGenerated);
    const names = columns.map((c) => this.dataSource.driver.escape(c.databaseName)).join(', ');
    const values = rows.map(
      (row) =>
        `(${columns
          .map((c) => sql.param(this.dataSource.driver.preparePersistentValue(c.getEntityValue(row), c)))
          .join(', ')})`,
    );
    return `INSERT INTO ${this.table(metadata)} (${names}) VALUES ${values.join(', ')}`;
  }

  /** The subject's row, locked until commit on PostgreSQL and MariaDB; null for a subject never seen. */
  async lockSubject(em: EntityManager, subject: string, now: number): Promise<LockedSubject | null> {
    const m = this.meta(this.entities.subjectState);
    const sql = new Statement(this.postgres);
    const live = this.sqlite ? `, (${this.liveCount(sql, subject, now)}) AS live` : '';
    const query =
      `SELECT ${this.column(m, 'tokenVersion')} AS token_version, ${this.column(m, 'epoch')} AS epoch${live}` +
      ` FROM ${this.table(m)} WHERE ${this.column(m, 'subject')} = ${sql.param(subject)}` +
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
    const sessionMeta = this.meta(this.entities.session);
    const tokenMeta = this.meta(this.entities.tokenLog);
    if (this.postgres) {
      const sql = new Statement(true);
      const insertSession = this.insert(sql, sessionMeta, [session]);
      const insertTokens = this.insert(sql, tokenMeta, tokens);
      const count = this.liveCount(sql, session.subject, session.createdAt);
      const rows = (await em.query(
        `WITH s AS (${insertSession}), t AS (${insertTokens}) ${count}`,
        sql.params,
      )) as Array<{ live: unknown }>;
      return Number(rows[0].live);
    }
    let before = live;
    if (before === null) {
      const sql = new Statement(false);
      const count = this.liveCount(sql, session.subject, session.createdAt);
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
    const t = this.meta(this.entities.tokenLog);
    const s = this.meta(this.entities.session);
    const m = this.meta(this.entities.subjectState);
    const escape = (name: string) => this.dataSource.driver.escape(name);
    const select = (alias: string, metadata: EntityMetadata) =>
      metadata.columns.map((c) => `${alias}.${escape(c.databaseName)} AS ${escape(`${alias}_${c.databaseName}`)}`);
    const sql = new Statement(this.postgres);
    const query =
      `SELECT ${[...select('t', t), ...select('s', s), `m.${this.column(m, 'tokenVersion')} AS m_version`].join(', ')}` +
      ` FROM ${this.table(t)} t` +
      ` LEFT JOIN ${this.table(s)} s ON s.${this.column(s, 'sessionId')} = t.${this.column(t, 'sessionId')}` +
      ` LEFT JOIN ${this.table(m)} m ON m.${this.column(m, 'subject')} = t.${this.column(t, 'subject')}` +
      ` WHERE t.${this.column(t, 'tokenHash')} = ${sql.param(tokenHash)}` +
      ` AND t.${this.column(t, 'tokenType')} = ${sql.param('refresh')}`;
    const rows = (await em.query(query, sql.params)) as Array<Record<string, unknown>>;
    const row = rows[0];
    if (!row) return null;
    const hydrate = <T>(alias: string, metadata: EntityMetadata): T => {
      const record: Record<string, unknown> = {};
      for (const c of metadata.columns)
        record[c.propertyName] = this.dataSource.driver.prepareHydratedValue(row[`${alias}_${c.databaseName}`], c);
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
    return this.insertRows(em, this.meta(this.entities.tokenLog), tokens);
  }

  private insertRows(em: EntityManager, metadata: EntityMetadata, rows: object[]): Promise<unknown> {
    const sql = new Statement(this.postgres);
    return em.query(this.insert(sql, metadata, rows), sql.params);
  }
}
