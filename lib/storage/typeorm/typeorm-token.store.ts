import { In, IsNull, LessThan, MoreThan, Not, type DataSource, type QueryDeepPartialEntity } from 'typeorm';
import type { JwtRevocationEntitySet } from './entities/jwt-revocation.entities.js';
import { chunks, RevocationRows } from './revocation-rows.js';
import { rowLock, transaction } from './transactions.js';
import { TypeOrmReads } from './typeorm-reads.js';
import { TypeOrmSweep } from './typeorm-sweep.js';
import type { RevokeReason } from '../../interfaces/revoke-reason.type.js';
import type { RevocationEvent } from '../../interfaces/revocation-event.interface.js';
import type { SessionRecord, TokenRecord } from '../../interfaces/token-record.interface.js';
import {
  TokenStore,
  type CreatedSession,
  type HistoryQuery,
  type NewSession,
  type PresentedToken,
  type SessionPageQuery,
  type SweepBatches,
  type RevocationSnapshot,
  type RevokedSession,
  type RevokedToken,
  type RotationRequest,
  type RotationResult,
} from '../token-store.interface.js';

/** Thrown inside a refresh transaction that lost the race for its token, to roll it back. */
class RotationLost extends Error {}

/** Token rows as written: the subject's version is read in the writing transaction. */
function withVersion(tokens: Omit<TokenRecord, 'subjectVersion'>[], subjectVersion: number) {
  // TypeORM's deep-partial type cannot see through the JSON column's transformer.
  return tokens.map((token) => ({ ...token, subjectVersion })) as QueryDeepPartialEntity<TokenRecord>[];
}

/**
 * The default store: the host's TypeORM data source, on SQLite, PostgreSQL or
 * MariaDB. Lock order is always session row, then token rows, so a refresh and
 * a revoke of the same session serialize instead of deadlocking.
 */
export class TypeOrmTokenStore extends TokenStore {
  private readonly rows: RevocationRows;
  private readonly sweeper: TypeOrmSweep;
  private readonly reads: TypeOrmReads;

  constructor(
    private readonly dataSource: DataSource,
    private readonly entities: JwtRevocationEntitySet,
  ) {
    super();
    this.rows = new RevocationRows(dataSource, entities);
    this.sweeper = new TypeOrmSweep(dataSource, entities);
    this.reads = new TypeOrmReads(dataSource, entities);
  }

  async createSession({ session, tokens, epoch, maxSessions }: NewSession): Promise<CreatedSession> {
    return transaction(this.dataSource, async (em): Promise<CreatedSession> => {
      // Held until commit: a subject-wide revocation either committed before
      // (this login sees its epoch and version) or waits and then sees this session.
      const state = await this.rows.lockSubject(em, session.subject);
      if (epoch !== null && state.epoch !== epoch) return { created: false };
      const evicted = await this.rows.evictOldestSessions(em, session.subject, maxSessions - 1, session.createdAt);
      await em.insert(this.entities.session, session);
      await em.insert(this.entities.tokenLog, withVersion(tokens, state.tokenVersion));
      return { created: true, subjectVersion: state.tokenVersion, evicted };
    });
  }

  async subjectEpoch(subject: string): Promise<number> {
    const row = await this.dataSource.manager.findOne(this.entities.subjectState, {
      where: { subject },
      select: { subject: true, epoch: true },
    });
    return row?.epoch ?? 0;
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
    return transaction(this.dataSource, async (em): Promise<RotationResult> => {
      const presented = await em.findOne(tokenLog, { where: { tokenHash: request.tokenHash, tokenType: 'refresh' } });
      if (!presented) return { outcome: 'invalid' };
      const current = await em.findOneBy(session, { sessionId: presented.sessionId });
      if (!current) return { outcome: 'invalid' };
      // Spent comes before expired: a stolen token replayed after its expiry is still evidence of theft.
      if (presented.spentAt !== null) {
        const successors = await em.find(tokenLog, { where: { parentJti: presented.jti } });
        return { outcome: 'spent', presented, successors, session: current };
      }
      if (presented.revokedAt !== null || presented.expiresAt <= request.now) return { outcome: 'invalid' };
      // Issued under an older token version: it outlived a logout everywhere it raced, and refreshes nothing.
      const version = await this.rows.subjectVersion(em, presented.subject);
      if (presented.subjectVersion < version) return { outcome: 'invalid' };
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
      const spent = await em.update(
        tokenLog,
        { jti: presented.jti, spentAt: IsNull(), revokedAt: IsNull() },
        { spentAt: request.now },
      );
      // Lost the race: roll back the session update made above.
      if (!spent.affected) throw new RotationLost();
      await em.insert(tokenLog, withVersion(next, version));
      return { outcome: 'rotated', subjectVersion: version };
    });
  }

  async revokeToken(jti: string, reason: RevokeReason, now: number): Promise<RevokedToken | null> {
    const { tokenLog } = this.entities;
    return transaction(this.dataSource, async (em) => {
      const result = await em.update(tokenLog, { jti, revokedAt: IsNull() }, { revokedAt: now, revokeReason: reason });
      const row = await em.findOne(tokenLog, {
        where: { jti },
        select: { jti: true, subject: true, sessionId: true, tokenType: true, expiresAt: true },
      });
      if (!row) return null;
      // Revoked already: no event, so a client repeating the call writes and publishes nothing.
      const changed = (result.affected ?? 0) > 0;
      const event =
        changed && row.tokenType === 'access'
          ? await this.rows.recordEvent(em, 'token', jti, row.expiresAt, now)
          : null;
      return {
        jti: row.jti,
        subject: row.subject,
        sessionId: row.sessionId,
        tokenType: row.tokenType,
        expiresAt: row.expiresAt,
        changed,
        event,
      };
    });
  }

  async revokeSession(sessionId: string, reason: RevokeReason, now: number): Promise<RevokedSession | null> {
    return transaction(this.dataSource, async (em) => {
      const changed = await this.rows.revokeSessions(em, [sessionId], reason, now);
      const session = await em.findOneBy(this.entities.session, { sessionId });
      if (!session) return null;
      return { session, event: changed > 0 ? await this.rows.recordEvent(em, 'session', sessionId, 0, now) : null };
    });
  }

  async revokePresented(token: PresentedToken, reason: RevokeReason, now: number): Promise<RevocationEvent | null> {
    return transaction(this.dataSource, async (em) => {
      // A session the log never saw gets a row, revoked below: the boot load of every instance reads it.
      await em
        .createQueryBuilder()
        .insert()
        .into(this.entities.session)
        .values({
          sessionId: token.sessionId,
          subject: token.subject,
          createdAt: token.issuedAt,
          lastSeenAt: now,
          expiresAt: token.expiresAt,
          revokedAt: null,
          revokeReason: null,
          userAgent: null,
          ip: null,
        })
        .orIgnore()
        .execute();
      const changed = await this.rows.revokeSessions(em, [token.sessionId], reason, now);
      return changed > 0 ? this.rows.recordEvent(em, 'session', token.sessionId, 0, now) : null;
    });
  }

  async revokeSubject(
    subject: string,
    reason: RevokeReason,
    now: number,
  ): Promise<{ version: number; event: RevocationEvent }> {
    const { session, tokenLog } = this.entities;
    return transaction(this.dataSource, async (em) => {
      await this.rows.raiseSubject(em, subject, {
        tokenVersion: () => 'token_version + 1',
        epoch: () => 'epoch + 1',
        revokedAt: now,
        revokeReason: reason,
      });
      await em.update(session, { subject, revokedAt: IsNull() }, { revokedAt: now, revokeReason: reason });
      await em.update(
        tokenLog,
        { subject, revokedAt: IsNull(), expiresAt: MoreThan(now) },
        { revokedAt: now, revokeReason: reason },
      );
      const version = await this.rows.subjectVersion(em, subject);
      return { version, event: await this.rows.recordEvent(em, 'subject', subject, version, now) };
    });
  }

  async revokeOtherSessions(
    subject: string,
    keepSessionId: string,
    reason: RevokeReason,
    now: number,
  ): Promise<RevocationEvent[]> {
    return transaction(this.dataSource, async (em) => {
      // The subject's row first, as logins take it: a login committed before
      // is listed below; one after sees the new epoch (and refuses, if given the old).
      await this.rows.raiseSubject(em, subject, { epoch: () => 'epoch + 1' });
      const sessions = await em.find(this.entities.session, {
        where: { subject, revokedAt: IsNull(), sessionId: Not(keepSessionId) },
        select: { sessionId: true },
        lock: rowLock(this.dataSource),
      });
      const ids = sessions.map((s) => s.sessionId);
      await this.rows.revokeSessions(em, ids, reason, now);
      const events: RevocationEvent[] = [];
      for (const id of ids) events.push(await this.rows.recordEvent(em, 'session', id, 0, now));
      return events;
    });
  }

  loadEvents(since: number): Promise<RevocationEvent[]> {
    return this.dataSource.manager.find(this.entities.revocationEvent, {
      where: { at: MoreThan(since) },
      order: { seq: 'ASC' },
    });
  }

  loadRevocations(now: number, since: number): Promise<RevocationSnapshot> {
    return this.reads.loadRevocations(now, since);
  }

  loadActiveAccessTokens(now: number): Promise<Array<[string, number]>> {
    return this.reads.loadActiveAccessTokens(now);
  }

  findActiveAccessToken(jti: string, now: number): Promise<number | null> {
    return this.reads.findActiveAccessToken(jti, now);
  }

  findToken(jti: string): Promise<TokenRecord | null> {
    return this.dataSource.manager.findOneBy(this.entities.tokenLog, { jti });
  }

  findSession(sessionId: string): Promise<SessionRecord | null> {
    return this.dataSource.manager.findOneBy(this.entities.session, { sessionId });
  }

  listActiveSessions(subject: string, now: number, page: SessionPageQuery): Promise<SessionRecord[]> {
    return this.reads.listActiveSessions(subject, now, page);
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

  sweep<T>(work: (batches: SweepBatches) => Promise<T>): Promise<T | null> {
    return this.sweeper.run(work);
  }

  countExpired(cutoff: number): Promise<number> {
    return this.dataSource.manager.count(this.entities.tokenLog, { where: { expiresAt: LessThan(cutoff) } });
  }

  findHistory(query: HistoryQuery): Promise<Array<TokenRecord & { archivedAt: number | null }>> {
    return this.reads.findHistory(query);
  }
}
