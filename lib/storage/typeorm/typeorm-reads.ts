import { IsNull, LessThan, LessThanOrEqual, MoreThan, Not, type DataSource, type FindOptionsWhere } from 'typeorm';
import type { ArchivedTokenRecord, SessionRecord, TokenRecord } from '../../interfaces/token-record.interface.js';
import type { HistoryQuery, RevocationSnapshot, SessionPageQuery } from '../token-store.interface.js';
import type { JwtRevocationEntitySet } from './entities/jwt-revocation.entities.js';

/** The TypeORM store's larger read queries: the boot loads, the allowlist look-up, session pages and history. */
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
