import { In, IsNull, LessThan, MoreThan, Not, type DataSource, type EntityManager, type QueryDeepPartialEntity } from 'typeorm';

import type { JwtRevocationEntitySet } from '../entities/jwt-revocation.entities.js';
import type { RevokeReason } from '../interfaces/revoke-reason.type.js';
import type { SessionRecord, TokenRecord } from '../interfaces/token-record.interface.js';
import {
  TokenStore,
  type NewSession,
  type RevocationSnapshot,
  type RevokedToken,
  type RotationRequest,
  type RotationResult,
} from '../interfaces/token-store.interface.js';

/** Thrown inside a refresh transaction that lost the race for its token, to roll it back. */
class RotationLost extends Error {}

/** Token rows as written: the subject's version is read in the writing transaction. */
function withVersion(tokens: Omit<TokenRecord, 'subjectVersion'>[], subjectVersion: number) {
  // TypeORM's deep-partial type cannot see through the JSON column's transformer.
  return tokens.map((token) => ({ ...token, subjectVersion })) as QueryDeepPartialEntity<TokenRecord>[];
}

/** Keeps IN (...) lists well under every database's parameter limit. */
const IN_CHUNK = 500;

function chunks<T>(items: T[], size = IN_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The default store: the host's TypeORM data source, on SQLite, PostgreSQL or
 * MariaDB. Lock order is always session row, then token rows, so a refresh and
 * a revoke of the same session serialize instead of deadlocking.
 */
export class TypeOrmTokenStore extends TokenStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly entities: JwtRevocationEntitySet,
  ) {
    super();
  }

  async createSession({ session, tokens }: NewSession): Promise<number> {
    return this.dataSource.transaction(async (em) => {
      const version = await this.subjectVersion(em, session.subject);
      await em.insert(this.entities.session, session);
      await em.insert(this.entities.tokenLog, withVersion(tokens, version));
      return version;
    });
  }

  async rotate(request: RotationRequest): Promise<RotationResult> {
    // A call that loses the race for a token rolls back and looks again: it
    // then sees the token spent by the winner, with the winner's successors.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.rotateInTransaction(request);
      } catch (error) {
        if (!(error instanceof RotationLost) || attempt === 3) {
          if (error instanceof RotationLost) return { outcome: 'invalid' };
          throw error;
        }
      }
    }
  }

  findRefreshToken(tokenHash: string): Promise<TokenRecord | null> {
    return this.dataSource.manager.findOne(this.entities.tokenLog, { where: { tokenHash, tokenType: 'refresh' } });
  }

  private rotateInTransaction(request: RotationRequest): Promise<RotationResult> {
    const { tokenLog, session } = this.entities;
    return this.dataSource.transaction(async (em): Promise<RotationResult> => {
      const presented = await em.findOne(tokenLog, { where: { tokenHash: request.tokenHash, tokenType: 'refresh' } });
      if (!presented || presented.revokedAt !== null || presented.expiresAt <= request.now) return { outcome: 'invalid' };
      const current = await em.findOneBy(session, { sessionId: presented.sessionId });
      if (!current) return { outcome: 'invalid' };
      if (presented.spentAt !== null) {
        const successors = await em.find(tokenLog, { where: { parentJti: presented.jti } });
        return { outcome: 'spent', presented, successors, session: current };
      }
      const next = request.next(presented, current);
      // Taking the session row first (locked until commit on PostgreSQL and
      // MariaDB) orders this refresh against a concurrent revoke of the
      // session; its lifetime and idle limits are checked in the same step.
      const live = await em.update(
        session,
        {
          sessionId: presented.sessionId,
          revokedAt: IsNull(),
          ...(request.createdAfter !== null ? { createdAt: MoreThan(request.createdAfter) } : {}),
          ...(request.seenAfter !== null ? { lastSeenAt: MoreThan(request.seenAfter) } : {}),
        },
        {
          lastSeenAt: request.now,
          expiresAt: Math.max(...next.map((t) => t.expiresAt)),
          userAgent: request.userAgent,
          ip: request.ip,
        },
      );
      if (!live.affected) return { outcome: 'invalid' };
      // Only one of several concurrent refreshes with the same token spends it.
      const spent = await em.update(tokenLog, { jti: presented.jti, spentAt: IsNull(), revokedAt: IsNull() }, { spentAt: request.now });
      // Lost the race: roll back the session update made above.
      if (!spent.affected) throw new RotationLost();
      const version = await this.subjectVersion(em, presented.subject);
      await em.insert(tokenLog, withVersion(next, version));
      return { outcome: 'rotated', subjectVersion: version };
    });
  }

  async revokeToken(jti: string, reason: RevokeReason, now: number): Promise<RevokedToken | null> {
    const { tokenLog } = this.entities;
    await this.dataSource.manager.update(tokenLog, { jti, revokedAt: IsNull() }, { revokedAt: now, revokeReason: reason });
    const row = await this.dataSource.manager.findOne(tokenLog, {
      where: { jti },
      select: { jti: true, subject: true, sessionId: true, tokenType: true, expiresAt: true },
    });
    return row
      ? { jti: row.jti, subject: row.subject, sessionId: row.sessionId, tokenType: row.tokenType, expiresAt: row.expiresAt }
      : null;
  }

  async revokeSession(sessionId: string, reason: RevokeReason, now: number): Promise<SessionRecord | null> {
    return this.dataSource.transaction(async (em) => {
      await this.revokeSessions(em, [sessionId], reason, now);
      return em.findOneBy(this.entities.session, { sessionId });
    });
  }

  async revokeSubject(subject: string, reason: RevokeReason, now: number): Promise<number> {
    const { subjectState, session, tokenLog } = this.entities;
    return this.dataSource.transaction(async (em) => {
      // Make sure the row exists, then raise the version in place: the
      // increment happens in the database, so two concurrent calls both count.
      await em
        .createQueryBuilder()
        .insert()
        .into(subjectState)
        .values({ subject, tokenVersion: 0, revokedAt: null, revokeReason: null })
        .orIgnore()
        .execute();
      await em
        .createQueryBuilder()
        .update(subjectState)
        .set({ tokenVersion: () => 'token_version + 1', revokedAt: now, revokeReason: reason })
        .where({ subject })
        .execute();
      await em.update(session, { subject, revokedAt: IsNull() }, { revokedAt: now, revokeReason: reason });
      await em.update(
        tokenLog,
        { subject, revokedAt: IsNull(), expiresAt: MoreThan(now) },
        { revokedAt: now, revokeReason: reason },
      );
      return this.subjectVersion(em, subject);
    });
  }

  async revokeOtherSessions(
    subject: string,
    keepSessionId: string,
    reason: RevokeReason,
    now: number,
  ): Promise<string[]> {
    return this.dataSource.transaction(async (em) => {
      const sessions = await em.find(this.entities.session, {
        where: { subject, revokedAt: IsNull(), sessionId: Not(keepSessionId) },
        select: { sessionId: true },
      });
      const ids = sessions.map((s) => s.sessionId);
      await this.revokeSessions(em, ids, reason, now);
      return ids;
    });
  }

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

  findToken(jti: string): Promise<TokenRecord | null> {
    return this.dataSource.manager.findOneBy(this.entities.tokenLog, { jti });
  }

  findSession(sessionId: string): Promise<SessionRecord | null> {
    return this.dataSource.manager.findOneBy(this.entities.session, { sessionId });
  }

  listActiveSessions(subject: string, now: number): Promise<SessionRecord[]> {
    return this.dataSource.manager.find(this.entities.session, {
      where: { subject, revokedAt: IsNull(), expiresAt: MoreThan(now) },
      order: { lastSeenAt: 'DESC', sessionId: 'ASC' },
    });
  }

  async touchSessions(lastSeen: Map<string, number>): Promise<void> {
    // One UPDATE per distinct time (seconds are what the guard records), so a
    // busy minute costs a handful of statements, not one per session.
    const byTime = new Map<number, string[]>();
    for (const [sessionId, at] of lastSeen) {
      const ids = byTime.get(at);
      if (ids) ids.push(sessionId);
      else byTime.set(at, [sessionId]);
    }
    for (const [at, ids] of byTime) {
      for (const part of chunks(ids)) {
        await this.dataSource.manager.update(
          this.entities.session,
          { sessionId: In(part), lastSeenAt: LessThan(at) },
          { lastSeenAt: at },
        );
      }
    }
  }

  private async subjectVersion(em: EntityManager, subject: string): Promise<number> {
    const state = await em.findOne(this.entities.subjectState, {
      where: { subject },
      select: { subject: true, tokenVersion: true },
    });
    return state?.tokenVersion ?? 0;
  }

  private async revokeSessions(em: EntityManager, ids: string[], reason: RevokeReason, now: number): Promise<void> {
    for (const part of chunks(ids)) {
      await em.update(
        this.entities.session,
        { sessionId: In(part), revokedAt: IsNull() },
        { revokedAt: now, revokeReason: reason },
      );
      await em.update(
        this.entities.tokenLog,
        { sessionId: In(part), revokedAt: IsNull() },
        { revokedAt: now, revokeReason: reason },
      );
    }
  }
}
