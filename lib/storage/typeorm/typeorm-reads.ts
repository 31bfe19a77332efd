import {
  IsNull,
  LessThan,
  LessThanOrEqual,
  MoreThan,
  Not,
  type DataSource,
  type EntitySchema,
  type FindOptionsWhere,
  type ObjectLiteral,
  type SelectQueryBuilder,
} from 'typeorm';
import type { ArchivedTokenRecord, SessionRecord, TokenRecord } from '../../interfaces/token-record.interface.js';
import type { SecurityEvent } from '../../interfaces/security-event.interface.js';
import type {
  HistoryQuery,
  RevocationSnapshot,
  SecurityEventQuery,
  SessionPageQuery,
} from '../token-store.interface.js';
import type { JwtRevocationEntitySet } from './entities/jwt-revocation.entities.js';

/** The TypeORM store's larger read queries: the boot loads, the allowlist look-up, session pages, history and security events. */
export class TypeOrmReads {
  constructor(
    private readonly dataSource: DataSource,
    private readonly entities: JwtRevocationEntitySet,
  ) {}

  async loadRevocations(now: number, since: number): Promise<RevocationSnapshot> {
    const em = this.dataSource.manager;
    const tokens = await em
      .createQueryBuilder(this.entities.tokenLog, 't')
      .select('t.jti', 'jti')
      .addSelect('t.expiresAt', 'exp')
      .where({ tokenType: 'access', revokedAt: Not(IsNull()), expiresAt: MoreThan(now) })
      .getRawMany<{ jti: string; exp: string | number }>();
    const sessions = await em.find(this.entities.session, {
      where: { revokedAt: MoreThan(since) },
      select: { sessionId: true, revokedAt: true },
    });
    const subjects = await em.find(this.entities.subjectState, {
      where: { revokedAt: MoreThan(since) },
    });
    return {
      tokens: tokens.map((t) => [t.jti, Number(t.exp)]),
      sessions: sessions.map((s) => [s.sessionId, s.revokedAt as number]),
      subjects: subjects.map((s) => [s.subject, s.tokenVersion, s.revokedAt as number]),
    };
  }

  /**
   * The boot load in pages, by keyset on (time, key), each on the table's
   * index on that time: revoked tokens by (expiresAt, jti), sessions by
   * (revokedAt, sessionId), subjects by (revokedAt, subject). Rows that tie on
   * the time are ordered by their key, so none is skipped or read twice; such
   * a group is sorted by the database for each page it spans (tokens tie only
   * when issued in the same millisecond), and rows stored in time order (the
   * log is written in issuing order) are read from the table nearly in order.
   */
  async *loadRevocationPages(now: number, since: number, pageSize: number): AsyncGenerator<RevocationSnapshot> {
    yield* this.byTime(
      'tokenLog',
      'expiresAt',
      'jti',
      now,
      pageSize,
      (q) => q.andWhere({ tokenType: 'access', revokedAt: Not(IsNull()) }),
      (rows) => ({ tokens: rows.map((r) => [r.key, Number(r.at)]), sessions: [], subjects: [] }),
    );
    yield* this.byTime(
      'session',
      'revokedAt',
      'sessionId',
      since,
      pageSize,
      (q) => q,
      (rows) => ({ tokens: [], sessions: rows.map((r) => [r.key, Number(r.at)]), subjects: [] }),
    );
    yield* this.byTime(
      'subjectState',
      'revokedAt',
      'subject',
      since,
      pageSize,
      (q) => q.addSelect('r.tokenVersion', 'version'),
      (rows) => ({ tokens: [], sessions: [], subjects: rows.map((r) => [r.key, Number(r.version), Number(r.at)]) }),
    );
  }

  loadActiveAccessTokenPages(now: number, pageSize: number): AsyncGenerator<Array<[string, number]>> {
    return this.byTime(
      'tokenLog',
      'expiresAt',
      'jti',
      now,
      pageSize,
      (q) => q.andWhere({ tokenType: 'access', revokedAt: IsNull() }),
      (rows) => rows.map((r): [string, number] => [r.key, Number(r.at)]),
    );
  }

  /**
   * The rows `filter` keeps whose time is after `from`, as raw { key, at }
   * rows (plus what it selects; no entities), in pages of at most `pageSize`
   * ordered by (at, key), each made into what `toPage` returns: each page
   * starts after the last row of the previous one. The time has one lower
   * bound per query (`> from`, then the cursor's), so the index range starts
   * there: with two, a database may start at the looser one and filter every
   * row before the cursor again, page after page. A page is let go of before
   * the next is read, so it dies young instead of filling the old generation.
   */
  private async *byTime<E extends keyof JwtRevocationEntitySet, P>(
    entity: E,
    time: string,
    key: string,
    from: number,
    pageSize: number,
    filter: (query: SelectQueryBuilder<ObjectLiteral>) => SelectQueryBuilder<ObjectLiteral>,
    toPage: (rows: Array<{ key: string; at: string | number; version?: string | number }>) => P,
  ): AsyncGenerator<P> {
    let after: { at: number; key: string } | null = null;
    for (;;) {
      const query = this.dataSource.manager
        .createQueryBuilder(this.entities[entity] as EntitySchema<ObjectLiteral>, 'r')
        .select(`r.${key}`, 'key')
        .addSelect(`r.${time}`, 'at');
      // After the cursor: a later time, or the same time and a later key.
      if (after === null) query.where(`r.${time} > :from`, { from });
      else
        query
          .where(`r.${time} >= :at`, { at: after.at })
          .andWhere(`(r.${time} > :at OR r.${key} > :key)`, { key: after.key });
      let raw: Array<{ key: string; at: string | number; version?: string | number }> | null = await filter(query)
        .orderBy(`r.${time}`, 'ASC')
        .addOrderBy(`r.${key}`, 'ASC')
        .limit(pageSize)
        .getRawMany();
      const count = raw.length;
      if (count === 0) return;
      // pg and mysql2 give BIGINT as a string.
      after = { at: Number(raw[count - 1].at), key: raw[count - 1].key };
      let page: P | null = toPage(raw);
      raw = null;
      yield page;
      page = null;
      if (count < pageSize) return;
    }
  }

  async loadActiveAccessTokens(now: number): Promise<Array<[string, number]>> {
    const rows = await this.dataSource.manager
      .createQueryBuilder(this.entities.tokenLog, 't')
      .select('t.jti', 'jti')
      .addSelect('t.expiresAt', 'exp')
      .where({ tokenType: 'access', revokedAt: IsNull(), expiresAt: MoreThan(now) })
      .getRawMany<{ jti: string; exp: string | number }>();
    return rows.map((r) => [r.jti, Number(r.exp)]);
  }

  async findActiveAccessToken(jti: string, now: number): Promise<number | null> {
    const row = await this.dataSource.manager.findOne(this.entities.tokenLog, {
      where: { jti, tokenType: 'access', revokedAt: IsNull(), expiresAt: MoreThan(now) },
      select: { jti: true, expiresAt: true },
    });
    return row ? row.expiresAt : null;
  }

  listActiveSessions(subject: string, now: number, page: SessionPageQuery): Promise<SessionRecord[]> {
    const live: FindOptionsWhere<SessionRecord> = { subject, revokedAt: IsNull(), expiresAt: MoreThan(now) };
    const { after } = page;
    // Keyset paging: stable while sessions come and go, and no OFFSET scan.
    const where = after
      ? [
          { ...live, createdAt: LessThan(after.createdAt) },
          { ...live, createdAt: after.createdAt, sessionId: LessThan(after.sessionId) },
        ]
      : live;
    return this.dataSource.manager.find(this.entities.session, {
      where,
      order: { createdAt: 'DESC', sessionId: 'DESC' },
      take: page.limit,
    });
  }

  /** A page of security events, newest first: by the subject and seq index, or the primary key alone. */
  listSecurityEvents({ subject, before, limit }: SecurityEventQuery): Promise<SecurityEvent[]> {
    const where: FindOptionsWhere<SecurityEvent> = {};
    if (subject !== undefined) where.subject = subject;
    if (before !== null) where.seq = LessThan(before);
    return this.dataSource.manager.find(this.entities.securityEvent, { where, order: { seq: 'DESC' }, take: limit });
  }

  async findHistory(query: HistoryQuery): Promise<Array<TokenRecord & { archivedAt: number | null }>> {
    const base: FindOptionsWhere<TokenRecord> = {};
    if (query.subject !== undefined) base.subject = query.subject;
    if (query.sessionId !== undefined) base.sessionId = query.sessionId;
    let where: FindOptionsWhere<TokenRecord>[] = [base];
    if (query.validAt !== undefined) {
      const at = query.validAt;
      const alive = { ...base, issuedAt: LessThanOrEqual(at), expiresAt: MoreThan(at) };
      where = [
        { ...alive, revokedAt: IsNull() },
        { ...alive, revokedAt: MoreThan(at) },
      ];
    }
    const options = { where, order: { issuedAt: 'DESC' as const, jti: 'ASC' as const }, take: query.limit };
    const [live, archived] = await Promise.all([
      this.dataSource.manager.find(this.entities.tokenLog, options),
      this.dataSource.manager.find(this.entities.tokenArchive, options as never) as Promise<ArchivedTokenRecord[]>,
    ]);
    return [...live.map((row) => ({ ...row, archivedAt: null })), ...archived]
      .sort((a, b) => b.issuedAt - a.issuedAt || a.jti.localeCompare(b.jti))
      .slice(0, query.limit);
  }
}
