import { In, LessThan, MoreThan, type DataSource, type EntityManager } from 'typeorm';
import type { JwtRevocationEntitySet } from './entities/jwt-revocation.entities.js';
import { IssuanceStatements, type LockedSubject } from './issuance-statements.js';
import { PostgresStatements } from './postgres-statements.js';
import { chunks, RevocationRows } from './revocation-rows.js';
import { transaction } from './transactions.js';
import { TypeOrmReads } from './typeorm-reads.js';
import { renewAccess } from './typeorm-renewal.js';
import { rotate, withVersion } from './typeorm-rotation.js';
import { TypeOrmRevocations } from './typeorm-revocations.js';
import { TypeOrmSweep } from './typeorm-sweep.js';
import type { RevokeReason } from '../../interfaces/revoke-reason.type.js';
import type { RevocationEvent } from '../../interfaces/revocation-event.interface.js';
import type { SecurityEvent } from '../../interfaces/security-event.interface.js';
import type { SessionRecord, TokenRecord } from '../../interfaces/token-record.interface.js';
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
  /** PostgreSQL's logins and refreshes in one statement each; null on the other databases. */
  private readonly postgres: PostgresStatements | null;
  private readonly revocations: TypeOrmRevocations;

  constructor(
    private readonly dataSource: DataSource,
    private readonly entities: JwtRevocationEntitySet,
  ) {
    super();
    this.rows = new RevocationRows(dataSource, entities);
    this.sweeper = new TypeOrmSweep(dataSource, entities);
    this.reads = new TypeOrmReads(dataSource, entities);
    this.issuance = new IssuanceStatements(dataSource, entities);
    this.postgres = dataSource.options.type === 'postgres' ? new PostgresStatements(dataSource, entities) : null;
    this.revocations = new TypeOrmRevocations(dataSource, entities, this.rows);
  }

  async createSession(input: NewSession): Promise<CreatedSession> {
    // PostgreSQL: most logins are one statement; the rest (a new subject, an
    // eviction due, a subject row that moved meanwhile) run the transaction.
    const quick = await this.postgres?.createSession(this.dataSource.manager, input);
    if (quick) return quick;
    const { session, tokens, epoch, maxSessions } = input;
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
    return rotate(this.dataSource, this.entities, this.issuance, this.postgres, request);
  }

  override renewAccess(request: RenewalRequest): Promise<RenewalResult> {
    return renewAccess(this.dataSource, this.entities, this.issuance, this.rows, request);
  }

  findRefreshToken(tokenHash: string): Promise<TokenRecord | null> {
    return this.dataSource.manager.findOne(this.entities.tokenLog, { where: { tokenHash, tokenType: 'refresh' } });
  }

  revokeToken(jti: string, reason: RevokeReason, now: number, client?: EventClient): Promise<RevokedToken | null> {
    return this.revocations.revokeToken(jti, reason, now, client);
  }

  revokeSession(
    sessionId: string,
    reason: RevokeReason,
    now: number,
    client?: EventClient,
  ): Promise<RevokedSession | null> {
    return this.revocations.revokeSession(sessionId, reason, now, client);
  }

  revokePresented(
    token: PresentedToken,
    reason: RevokeReason,
    now: number,
    client?: EventClient,
  ): Promise<RevocationEvent | null> {
    return this.revocations.revokePresented(token, reason, now, client);
  }

  revokeSubject(
    subject: string,
    reason: RevokeReason,
    now: number,
    client?: EventClient,
  ): Promise<{ version: number; event: RevocationEvent }> {
    return this.revocations.revokeSubject(subject, reason, now, client);
  }

  revokeOtherSessions(
    subject: string,
    keepSessionId: string,
    reason: RevokeReason,
    now: number,
    client?: EventClient,
  ): Promise<RevocationEvent[]> {
    return this.revocations.revokeOtherSessions(subject, keepSessionId, reason, now, client);
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
