import type { RevocationEvent } from '../../interfaces/revocation-event.interface.js';
import type { RevokeReason } from '../../interfaces/revoke-reason.type.js';
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
  type RevocationSnapshot,
  type RevokedSession,
  type RevokedToken,
  type RotationRequest,
  type RotationResult,
  type SessionPageQuery,
  type SweepBatches,
} from '../token-store.interface.js';
import { NO_CLIENT, subjectEvent, tokenEvent } from '../security-events.js';
import { sweepBatches } from './in-memory-sweep.js';
import { activeSessionsOf, historyOf, revocationsOf, securityEventsOf } from './in-memory-reads.js';
import { InMemoryTables, copy, oldestFirst } from './in-memory-tables.js';

/**
 * A `TokenStore` in plain Maps: for unit tests, and for trying the module
 * without a database. It forgets everything when the process ends, and it
 * is one process's state: several instances of an app cannot share it.
 *
 * Every call is atomic: each does its whole work synchronously, before it
 * first yields, so concurrent calls never interleave within one. Look-ups
 * across a subject scan every row: fine for tests and trials, not for
 * production volumes.
 */
export class InMemoryTokenStore extends TokenStore {
  private readonly db = new InMemoryTables();
  private sweeping = false;

  async createSession({ session, tokens, epoch, maxSessions }: NewSession): Promise<CreatedSession> {
    const state = this.db.subjectState(session.subject);
    if (epoch !== null && state.epoch !== epoch) return { created: false };
    if (this.db.sessions.has(session.sessionId)) throw new Error(`session ${session.sessionId} exists already`);
    this.db.assertNew(tokens);
    // The oldest sessions live when this one starts, beyond the ones it may keep.
    const live = this.db
      .sessionsOf(session.subject, (s) => s.revokedAt === null && s.expiresAt > session.createdAt)
      .sort(oldestFirst);
    const evicted = this.db.revokeSessions(
      live.slice(0, Math.max(0, live.length - (maxSessions - 1))),
      'session_limit',
      session.createdAt,
      { ip: session.ip, userAgent: session.userAgent },
    );
    this.db.sessions.set(session.sessionId, copy(session));
    this.db.insert(tokens, state.tokenVersion);
    return { created: true, subjectVersion: state.tokenVersion, evicted };
  }

  async subjectEpoch(subject: string): Promise<number> {
    return this.db.subjects.get(subject)?.epoch ?? 0;
  }

  async rotate(request: RotationRequest): Promise<RotationResult> {
    const presented = this.db.refreshRow(request.tokenHash);
    const session = presented && this.db.sessions.get(presented.sessionId);
    if (!presented || !session) return { outcome: 'invalid' };
    // Spent comes before expired: a stolen token replayed after its expiry is still evidence of theft.
    if (presented.spentAt !== null) {
      const successors = this.db.tokensOf(presented.sessionId).filter((t) => t.parentJti === presented.jti);
      return { outcome: 'spent', presented: copy(presented), successors: copy(successors), session: copy(session) };
    }
    if (presented.revokedAt !== null || presented.expiresAt <= request.now) return { outcome: 'invalid' };
    // Issued under an older token version: it outlived a logout everywhere, and refreshes nothing.
    const version = this.db.subjects.get(presented.subject)?.tokenVersion ?? 0;
    if (presented.subjectVersion < version || session.revokedAt !== null) return { outcome: 'invalid' };
    if (request.createdAfter !== null && session.createdAt <= request.createdAfter) return { outcome: 'invalid' };
    if (request.seenAfter !== null && session.lastSeenAt <= request.seenAfter) return { outcome: 'invalid' };
    const next = request.next(copy(presented), copy(session));
    this.db.assertNew(next);
    presented.spentAt = request.now;
    Object.assign(session, {
      lastSeenAt: request.now,
      expiresAt: Math.max(...next.map((t) => t.expiresAt)),
      userAgent: request.userAgent,
      ip: request.ip,
    });
    this.db.insert(next, version);
    return { outcome: 'rotated', subjectVersion: version };
  }

  override async renewAccess(request: RenewalRequest): Promise<RenewalResult> {
    const session = this.db.sessions.get(request.sessionId);
    const presented = this.db.tokens.get(request.jti);
    if (!session || session.revokedAt !== null) return { outcome: 'refused' };
    if (
      !presented ||
      presented.tokenType !== 'access' ||
      presented.sessionId !== request.sessionId ||
      presented.revokedAt !== null
    )
      return { outcome: 'refused' };
    const version = this.db.subjects.get(presented.subject)?.tokenVersion ?? 0;
    if (presented.subjectVersion !== version) return { outcome: 'refused' };
    // The session's newest unrevoked access token that is not due yet: the racers' answer.
    const newer = this.db
      .tokensOf(request.sessionId)
      .filter((t) => t.tokenType === 'access' && t.revokedAt === null && t.expiresAt > request.dueAfter)
      .sort((a, b) => b.expiresAt - a.expiresAt || (a.jti < b.jti ? -1 : 1))[0];
    if (newer)
      return newer.subjectVersion === version
        ? { outcome: 'renewed', token: copy(newer), written: false }
        : { outcome: 'refused' };
    const next = request.next(copy(presented), copy(session));
    if (next === null) return { outcome: 'refused' };
    this.db.assertNew([next]);
    this.db.insert([next], version);
    Object.assign(session, {
      lastSeenAt: Math.max(session.lastSeenAt, request.now),
      expiresAt: Math.max(session.expiresAt, next.expiresAt),
      userAgent: request.userAgent,
      ip: request.ip,
    });
    return { outcome: 'renewed', token: { ...copy(next), subjectVersion: version }, written: true };
  }

  async findRefreshToken(tokenHash: string): Promise<TokenRecord | null> {
    const row = this.db.refreshRow(tokenHash);
    return row ? copy(row) : null;
  }

  async revokeToken(
    jti: string,
    reason: RevokeReason,
    now: number,
    client: EventClient = NO_CLIENT,
  ): Promise<RevokedToken | null> {
    const row = this.db.tokens.get(jti);
    if (!row) return null;
    const changed = this.db.revoke(row, reason, now);
    if (changed) this.db.recordSecurity(tokenEvent(row, reason, now, client));
    // Refresh tokens are checked in the store: other instances need no event for them.
    const event = changed && row.tokenType === 'access' ? this.db.record('token', jti, row.expiresAt, now) : null;
    const { subject, sessionId, tokenType, expiresAt } = row;
    return { jti, subject, sessionId, tokenType, expiresAt, changed, event };
  }

  async revokeSession(
    sessionId: string,
    reason: RevokeReason,
    now: number,
    client: EventClient = NO_CLIENT,
  ): Promise<RevokedSession | null> {
    const session = this.db.sessions.get(sessionId);
    if (!session) return null;
    const changed = this.db.revokeSession(session, reason, now);
    return { session: copy(session), event: changed ? this.db.sessionRevoked(session, reason, now, client) : null };
  }

  async revokePresented(
    token: PresentedToken,
    reason: RevokeReason,
    now: number,
    client: EventClient = NO_CLIENT,
  ): Promise<RevocationEvent | null> {
    let session = this.db.sessions.get(token.sessionId);
    if (!session) {
      const { sessionId, subject, issuedAt: createdAt, expiresAt } = token;
      session = {
        sessionId,
        subject,
        createdAt,
        lastSeenAt: now,
        expiresAt,
        revokedAt: null,
        revokeReason: null,
        userAgent: null,
        ip: null,
      };
      this.db.sessions.set(sessionId, session);
    }
    return this.db.revokeSession(session, reason, now) ? this.db.sessionRevoked(session, reason, now, client) : null;
  }

  async revokeSubject(
    subject: string,
    reason: RevokeReason,
    now: number,
    client: EventClient = NO_CLIENT,
  ): Promise<{ version: number; event: RevocationEvent }> {
    const state = this.db.subjectState(subject);
    state.tokenVersion++;
    state.epoch++;
    Object.assign(state, { revokedAt: now, revokeReason: reason });
    for (const session of this.db.sessionsOf(subject, () => true)) this.db.revoke(session, reason, now);
    for (const token of this.db.tokens.values()) {
      if (token.subject === subject && token.expiresAt > now) this.db.revoke(token, reason, now);
    }
    this.db.recordSecurity(subjectEvent(subject, reason, now, client));
    return { version: state.tokenVersion, event: this.db.record('subject', subject, state.tokenVersion, now) };
  }

  async revokeOtherSessions(
    subject: string,
    keepSessionId: string,
    reason: RevokeReason,
    now: number,
    client: EventClient = NO_CLIENT,
  ): Promise<RevocationEvent[]> {
    this.db.subjectState(subject).epoch++;
    const others = this.db
      .sessionsOf(subject, (s) => s.revokedAt === null && s.sessionId !== keepSessionId)
      .sort(oldestFirst);
    return this.db.revokeSessions(others, reason, now, client);
  }

  override async listSecurityEvents(query: SecurityEventQuery): Promise<SecurityEvent[]> {
    return securityEventsOf(this.db, query);
  }

  override async recordSecurityEvent(event: NewSecurityEvent): Promise<void> {
    this.db.recordSecurity(copy(event));
  }

  async loadEvents(since: number): Promise<RevocationEvent[]> {
    return copy(this.db.events.filter((e) => e.at > since));
  }

  async loadRevocations(now: number, since: number): Promise<RevocationSnapshot> {
    return revocationsOf(this.db, now, since);
  }

  async loadActiveAccessTokens(now: number): Promise<Array<[string, number]>> {
    return [...this.db.tokens.values()].filter((t) => this.active(t, now)).map((t) => [t.jti, t.expiresAt]);
  }

  async findActiveAccessToken(jti: string, now: number): Promise<number | null> {
    const row = this.db.tokens.get(jti);
    return row && this.active(row, now) ? row.expiresAt : null;
  }

  async findToken(jti: string): Promise<TokenRecord | null> {
    const row = this.db.tokens.get(jti);
    return row ? copy(row) : null;
  }

  async findSession(sessionId: string): Promise<SessionRecord | null> {
    const row = this.db.sessions.get(sessionId);
    return row ? copy(row) : null;
  }

  async listActiveSessions(subject: string, now: number, page: SessionPageQuery): Promise<SessionRecord[]> {
    return activeSessionsOf(this.db, subject, now, page);
  }

  async touchSessions(lastSeen: Map<string, number>): Promise<void> {
    for (const [sessionId, at] of lastSeen) {
      const session = this.db.sessions.get(sessionId);
      if (session && session.lastSeenAt < at) session.lastSeenAt = at;
    }
  }

  async sweep<T>(work: (batches: SweepBatches) => Promise<T>): Promise<T | null> {
    if (this.sweeping) return null;
    this.sweeping = true;
    try {
      return await work(sweepBatches(this.db));
    } finally {
      this.sweeping = false;
    }
  }

  async countExpired(cutoff: number): Promise<number> {
    let count = 0;
    for (const t of this.db.tokens.values()) if (t.expiresAt < cutoff) count++;
    return count;
  }

  async findHistory(query: HistoryQuery): Promise<Array<TokenRecord & { archivedAt: number | null }>> {
    return historyOf(this.db, query);
  }

  /** An access row a check may accept: unrevoked and unexpired. */
  private active(t: TokenRecord, now: number): boolean {
    return t.tokenType === 'access' && t.revokedAt === null && t.expiresAt > now;
  }
}
