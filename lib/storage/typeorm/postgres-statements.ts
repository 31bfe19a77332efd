import type { DataSource, EntityManager, QueryDeepPartialEntity } from 'typeorm';
import type { TokenRecord } from '../../interfaces/token-record.interface.js';
import type { CreatedSession, NewSession, RotationRequest } from '../token-store.interface.js';
import type { JwtRevocationEntitySet } from './entities/jwt-revocation.entities.js';
import { liveCount } from './issuance-statements.js';
import { Statement, TableSql } from './table-sql.js';

/** What a refresh's one statement did: wrote the spend and the new pair, found the session gone, or lost the token to a racer. */
export type OneStatementSpend = 'rotated' | 'session-gone' | 'lost';

/**
 * A login and a refresh on PostgreSQL, each in one statement of
 * data-modifying WITH queries sent outside a transaction (one statement is
 * atomic on its own). BEGIN, a separate locking read and COMMIT were three
 * round trips of four per login, and each round trip costs the Node process
 * a write and a read on the socket: more CPU than the statement itself
 * (bench/README.md, "Issuance").
 *
 * The lock order stays the store's: the subject's row before a session's,
 * a session's row before its tokens'.
 */
export class PostgresStatements {
  private readonly sql: TableSql;

  constructor(
    dataSource: DataSource,
    private readonly entities: JwtRevocationEntitySet,
  ) {
    this.sql = new TableSql(dataSource);
  }

  /**
   * A login of a subject seen before, when no eviction is due: null when the
   * caller must run the transaction instead (a subject never seen, a login
   * past the cap, or a subject row that moved while this one waited).
   *
   * The statement takes the subject's row with an update that changes
   * nothing, and only if the row is still the version the statement's
   * snapshot holds. Every login and every subject-wide revocation writes
   * that row (IssuanceStatements.lockSubject, the revokes), so an unchanged
   * row means no session was added since the snapshot was taken, and the
   * count of live sessions read from it is exact: the same count the
   * transaction reads after its lock. A count too high (a session revoked
   * meanwhile) only sends the login to the transaction.
   */
  async createSession(em: EntityManager, input: NewSession): Promise<CreatedSession | null> {
    const { session, tokens, epoch, maxSessions } = input;
    const m = this.sql.meta(this.entities.subjectState);
    const s = this.sql.meta(this.entities.session);
    const t = this.sql.meta(this.entities.tokenLog);
    const sql = new Statement(true);
    const subject = sql.param(session.subject);
    const version = this.sql.column(m, 'tokenVersion');
    const subjectColumn = this.sql.column(m, 'subject');
    const sameEpoch = epoch === null ? '' : ` AND m.epoch = ${sql.param(epoch)}`;
    const query =
      `WITH m AS (UPDATE ${this.sql.table(m)} x SET ${version} = x.${version}` +
      ` WHERE x.${subjectColumn} = ${subject}` +
      ` AND x.ctid = (SELECT ctid FROM ${this.sql.table(m)} WHERE ${subjectColumn} = ${subject})` +
      ` RETURNING x.${version} AS token_version, x.${this.sql.column(m, 'epoch')} AS epoch),` +
      ` c AS (${liveCount(this.sql, s, subject, sql.param(session.createdAt))}),` +
      ` s AS (${this.sql.insertSelect(sql, s, [session])}, m, c` +
      ` WHERE c.live < ${sql.param(maxSessions)}${sameEpoch} RETURNING 1),` +
      ` t AS (${this.sql.insertSelect(sql, t, tokens, { subjectVersion: 'm.token_version' })}, m` +
      ` WHERE EXISTS (SELECT 1 FROM s))` +
      ` SELECT m.token_version, m.epoch, (SELECT COUNT(*) FROM s) AS created FROM m`;
    const rows = (await em.query(query, sql.params)) as Array<{
      token_version: unknown;
      epoch: unknown;
      created: unknown;
    }>;
    const row = rows[0];
    if (!row) return null;
    const subjectVersion = Number(row.token_version);
    if (Number(row.created) === 1) return { created: true, subjectVersion, evicted: [] };
    if (epoch !== null && Number(row.epoch) !== epoch) return { created: false };
    return null;
  }

  /**
   * A refresh's writes, once its token was read: the session row locked
   * first (its lifetime and idle limits checked in the same step), the spend
   * of the presented token only if it is still unspent and unrevoked, and
   * the session's update and the new pair only if the spend happened. A
   * racer that spent the token first leaves this statement nothing to do:
   * 'lost', and nothing written.
   */
  async spend(
    em: EntityManager,
    request: RotationRequest,
    presented: TokenRecord,
    pair: QueryDeepPartialEntity<TokenRecord>[],
  ): Promise<OneStatementSpend> {
    const s = this.sql.meta(this.entities.session);
    const t = this.sql.meta(this.entities.tokenLog);
    const sql = new Statement(true);
    const column = (property: string) => this.sql.column(s, property);
    const value = (property: string, v: unknown) => sql.param(this.sql.stored(s, property, v));
    const sessionId = value('sessionId', presented.sessionId);
    const limits =
      (request.createdAfter !== null
        ? ` AND ${column('createdAt')} > ${value('createdAt', request.createdAfter)}`
        : '') +
      (request.seenAfter !== null ? ` AND ${column('lastSeenAt')} > ${value('lastSeenAt', request.seenAfter)}` : '');
    const expiresAt = Math.max(...pair.map((token) => token.expiresAt as number));
    const spentAt = this.sql.column(t, 'spentAt');
    const query =
      `WITH s AS (SELECT 1 FROM ${this.sql.table(s)} WHERE ${column('sessionId')} = ${sessionId}` +
      ` AND ${column('revokedAt')} IS NULL${limits} FOR UPDATE),` +
      ` t AS (UPDATE ${this.sql.table(t)} SET ${spentAt} = ${sql.param(this.sql.stored(t, 'spentAt', request.now))}` +
      ` WHERE ${this.sql.column(t, 'jti')} = ${sql.param(presented.jti)} AND ${spentAt} IS NULL` +
      ` AND ${this.sql.column(t, 'revokedAt')} IS NULL AND EXISTS (SELECT 1 FROM s) RETURNING 1),` +
      ` u AS (UPDATE ${this.sql.table(s)} SET ${column('lastSeenAt')} = ${value('lastSeenAt', request.now)},` +
      ` ${column('expiresAt')} = ${value('expiresAt', expiresAt)},` +
      ` ${column('userAgent')} = ${value('userAgent', request.userAgent)}, ${column('ip')} = ${value('ip', request.ip)}` +
      ` WHERE ${column('sessionId')} = ${sessionId} AND EXISTS (SELECT 1 FROM t)),` +
      ` i AS (${this.sql.insertSelect(sql, t, pair)} WHERE EXISTS (SELECT 1 FROM t))` +
      // s before t: the session's lock comes first, as in every revoke.
      ` SELECT (SELECT COUNT(*) FROM s) AS live, (SELECT COUNT(*) FROM t) AS spent`;
    const [row] = (await em.query(query, sql.params)) as Array<{ live: unknown; spent: unknown }>;
    if (Number(row.live) === 0) return 'session-gone';
    return Number(row.spent) === 1 ? 'rotated' : 'lost';
  }
}
