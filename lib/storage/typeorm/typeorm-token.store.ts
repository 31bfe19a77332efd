import { In, IsNull, LessThan, MoreThan, Not, type DataSource, type EntityManager } from 'typeorm';
import type { JwtRevocationEntitySet } from './entities/jwt-revocation.entities.js';
import { IssuanceStatements, type LockedSubject } from './issuance-statements.js';
import { chunks, RevocationRows } from './revocation-rows.js';
import { rowLock, transaction } from './transactions.js';
import { TypeOrmReads } from './typeorm-reads.js';
import { renewAccess } from './typeorm-renewal.js';
import { rotate, withVersion } from './typeorm-rotation.js';
import { TypeOrmSweep } from './typeorm-sweep.js';
import type { RevokeReason } from '../../interfaces/revoke-reason.type.js';
import type { RevocationEvent } from '../../interfaces/revocation-event.interface.js';
import type { SecurityEvent } from '../../interfaces/security-event.interface.js';
import type { SessionRecord, TokenRecord } from '../../interfaces/token-record.interface.js';
import { NO_CLIENT, subjectEvent, tokenEvent } from '../security-events.js';
import {
  TokenStore,
  type CreatedSession,
  type EventClient,
  type NewSecurityEvent,
  type SecurityEventQuery,
  type HistoryQuery,
  type NewSession,
  type PresentedToken,
  type RenewalRequest,
  type RenewalResult,
  type SessionPageQuery,
  type SweepBatches,
  type RevocationSnapshot,
  type RevokedSession,
  type RevokedToken,
  type RotationRequest,
  type RotationResult,
} from '../token-store.interface.js';

/**
 * The default store: the host's TypeORM data source, on SQLite, PostgreSQL or
 * MariaDB. Lock order is always session row, then token rows, so a refresh and
 * a revoke of the same session serialize instead of deadlocking.
 */
export class TypeOrmTokenStore extends TokenStore {
  private readonly rows: RevocationRows;
  private readonly sweeper: TypeOrmSweep;
  private readonly reads: TypeOrmReads;
  private readonly issuance: IssuanceStatements;

  constructor(
    private readonly dataSource: DataSource,
    private readonly entities: JwtRevocationEntitySet,
  ) {
    super();
    this.rows = new RevocationRows(dataSource, entities);
    this.sweeper = new TypeOrmSweep(dataSource, entities);
    this.reads = new TypeOrmReads(dataSource, entities);
    this.issuance = new IssuanceStatements(dataSource, entities);
  }

  async createSession({ session, tokens, epoch, maxSessions }: NewSession): Promise<CreatedSession> {
    return transaction(this.dataSource, async (em): Promise<CreatedSession> => {
      // Held until commit: a subject-wide revocation either committed before
      // (this login sees its epoch and version) or waits and then sees this session.
      const state = await this.lockSubject(em, session.subject, session.createdAt);
      if (epoch !== null && state.epoch !== epoch) return { created: false };
      const rows = withVersion(tokens, state.tokenVersion);
      const live = await this.issuance.insertSession(em, session, rows, state.live);
      // Past the cap (rare): the oldest others go, after the new rows, in the same transaction.
      const evicted = await this.rows.evictOldestSessions(
        em,
        session.subject,
        live - (maxSessions - 1),
        session.createdAt,
        session.sessionId,
        { ip: session.ip, userAgent: session.userAgent },
      );
      return { created: true, subjectVersion: state.tokenVersion, evicted };
    });
  }

  /** The subject's row, locked (see IssuanceStatements); created first for a subject never seen. */
  private async lockSubject(em: EntityManager, subject: string, now: number): Promise<LockedSubject> {
    // Read first: most logins are of subjects seen before, and skip the insert.
    const seen = await this.issuance.lockSubject(em, subject, now);
    if (seen) return seen;
    await this.rows.ensureSubject(em, subject);
    const created = await this.issuance.lockSubject(em, subject, now);
    if (!created) throw new Error(`subject state row of a new subject could not be created`);
    return created;
  }

  async subjectEpoch(subject: string): Promise<number> {
    const row = await this.dataSource.manager.findOne(this.entities.subjectState, {
      where: { subject },
      select: { subject: true, epoch: true },
    });
    return row?.epoch ?? 0;
  }

  rotate(request: RotationRequest): Promise<RotationResult> {
    return rotate(this.dataSource, this.entities, this.issuance, request);
  }

  override renewAccess(request: RenewalRequest): Promise<RenewalResult> {
    return renewAccess(this.dataSource, this.entities, this.issuance, this.rows, request);
  }

  findRefreshToken(tokenHash: string): Promise<TokenRecord | null> {
    return this.dataSource.manager.findOne(this.entities.tokenLog, { where: { tokenHash, tokenType: 'refresh' } });
  }

  async revokeToken(
    jti: string,
    reason: RevokeReason,
    now: number,
    client: EventClient = NO_CLIENT,
  ): Promise<RevokedToken | null> {
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
      if (changed) await this.rows.recordSecurity(em, [tokenEvent(row, reason, now, client)]);
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

  async revokeSession(
    sessionId: string,
    reason: RevokeReason,
    now: number,
    client: EventClient = NO_CLIENT,
  ): Promise<RevokedSession | null> {
    return transaction(this.dataSource, async (em) => {
      const changed = await this.rows.revokeSessions(em, [sessionId], reason, now);
      const session = await em.findOneBy(this.entities.session, { sessionId });
      if (!session) return null;
      if (changed === 0) return { session, event: null };
      const [event] = await this.rows.sessionsRevoked(em, session.subject, [sessionId], reason, now, client);
      return { session, event };
    });
  }

  async revokePresented(
    token: PresentedToken,
    reason: RevokeReason,
    now: number,
    client: EventClient = NO_CLIENT,
  ): Promise<RevocationEvent | null> {
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
      if (changed === 0) return null;
      const [event] = await this.rows.sessionsRevoked(em, token.subject, [token.sessionId], reason, now, client);
      return event;
    });
  }

  async revokeSubject(
    subject: string,
    reason: RevokeReason,
    now: number,
    client: EventClient = NO_CLIENT,
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
      await this.rows.recordSecurity(em, [subjectEvent(subject, reason, now, client)]);
      return { version, event: await this.rows.recordEvent(em, 'subject', subject, version, now) };
    });
  }

  async revokeOtherSessions(
    subject: string,
    keepSessionId: string,
    reason: RevokeReason,
    now: number,
    client: EventClient = NO_CLIENT,
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
      return this.rows.sessionsRevoked(em, subject, ids, reason, now, client);
    });
  }

  override listSecurityEvents(query: SecurityEventQuery): Promise<SecurityEvent[]> {
    return this.reads.listSecurityEvents(query);
  }

  override async recordSecurityEvent(event: NewSecurityEvent): Promise<void> {
    await this.rows.recordSecurity(this.dataSource.manager, [event]);
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

  loadRevocationPages(now: number, since: number, pageSize: number): AsyncGenerator<RevocationSnapshot> {
    return this.reads.loadRevocationPages(now, since, pageSize);
  }

  loadActiveAccessTokenPages(now: number, pageSize: number): AsyncGenerator<Array<[string, number]>> {
    return this.reads.loadActiveAccessTokenPages(now, pageSize);
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
