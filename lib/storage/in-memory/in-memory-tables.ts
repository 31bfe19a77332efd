import type { RevocationEvent } from '../../interfaces/revocation-event.interface.js';
import type { RevokeReason } from '../../interfaces/revoke-reason.type.js';
import type { SecurityEvent } from '../../interfaces/security-event.interface.js';
import type {
  ArchivedTokenRecord,
  SessionRecord,
  SubjectStateRecord,
  TokenRecord,
} from '../../interfaces/token-record.interface.js';
import { sessionEvent } from '../security-events.js';
import type { EventClient, NewSecurityEvent } from '../token-store.types.js';

/** Copies in and out: a caller changing a record it was given never changes the store. */
export const copy = <T>(value: T): T => structuredClone(value);

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Oldest first by `createdAt`, then `sessionId`. */
export const oldestFirst = (a: SessionRecord, b: SessionRecord) =>
  a.createdAt - b.createdAt || compare(a.sessionId, b.sessionId);

/** Newest first by `issuedAt`, then `jti` ascending. */
export const newestIssuedFirst = (a: TokenRecord, b: TokenRecord) => b.issuedAt - a.issuedAt || compare(a.jti, b.jti);

/**
 * The rows of `InMemoryTokenStore` (the tables of the TypeORM store) and the
 * row-level steps its calls are made of. Nothing here yields: a store call
 * made of these steps is atomic.
 */
export class InMemoryTables {
  readonly tokens = new Map<string, TokenRecord>();
  /** Refresh rows by `tokenHash` -> jti. */
  readonly hashes = new Map<string, string>();
  /** Token rows of each session in the log: sessionId -> jtis. */
  readonly sessionTokens = new Map<string, Set<string>>();
  readonly sessions = new Map<string, SessionRecord>();
  readonly subjects = new Map<string, SubjectStateRecord>();
  readonly archive = new Map<string, ArchivedTokenRecord>();
  /** In `seq` order. */
  events: RevocationEvent[] = [];
  private lastSeq = 0;
  /** The audit trail, in `seq` order. */
  securityEvents: SecurityEvent[] = [];
  private lastSecuritySeq = 0;

  /** The subject's state, created for a subject never seen. */
  subjectState(subject: string): SubjectStateRecord {
    let state = this.subjects.get(subject);
    if (!state)
      this.subjects.set(subject, (state = { subject, tokenVersion: 0, epoch: 0, revokedAt: null, revokeReason: null }));
    return state;
  }

  refreshRow(tokenHash: string): TokenRecord | undefined {
    const jti = this.hashes.get(tokenHash);
    const row = jti === undefined ? undefined : this.tokens.get(jti);
    return row?.tokenType === 'refresh' ? row : undefined;
  }

  tokensOf(sessionId: string): TokenRecord[] {
    return [...(this.sessionTokens.get(sessionId) ?? [])].map((jti) => this.tokens.get(jti) as TokenRecord);
  }

  sessionsOf(subject: string, keep: (session: SessionRecord) => boolean): SessionRecord[] {
    return [...this.sessions.values()].filter((s) => s.subject === subject && keep(s));
  }

  /** Refuses rows whose jti or hash the log holds already, before anything is written. */
  assertNew(rows: Array<Omit<TokenRecord, 'subjectVersion'>>): void {
    const seen = new Set<string>();
    for (const row of rows) {
      if (this.tokens.has(row.jti) || seen.has(row.jti)) throw new Error(`token ${row.jti} exists already`);
      if (row.tokenHash !== null && (this.hashes.has(row.tokenHash) || seen.has(row.tokenHash)))
        throw new Error('a token with this hash exists already');
      seen.add(row.jti);
      if (row.tokenHash !== null) seen.add(row.tokenHash);
    }
  }

  insert(rows: Array<Omit<TokenRecord, 'subjectVersion'>>, subjectVersion: number): void {
    for (const row of rows) {
      this.tokens.set(row.jti, { ...copy(row), subjectVersion });
      if (row.tokenHash !== null) this.hashes.set(row.tokenHash, row.jti);
      let jtis = this.sessionTokens.get(row.sessionId);
      if (!jtis) this.sessionTokens.set(row.sessionId, (jtis = new Set()));
      jtis.add(row.jti);
    }
  }

  /** Moves a log row to the archive. */
  moveToArchive(row: TokenRecord, archivedAt: number): void {
    this.archive.set(row.jti, { ...row, archivedAt });
    this.tokens.delete(row.jti);
    if (row.tokenHash !== null) this.hashes.delete(row.tokenHash);
    const jtis = this.sessionTokens.get(row.sessionId);
    jtis?.delete(row.jti);
    if (jtis?.size === 0) this.sessionTokens.delete(row.sessionId);
  }

  /** Appends an event with the next sequence number; returns a copy. */
  record(kind: RevocationEvent['kind'], key: string, value: number, at: number): RevocationEvent {
    const event = { seq: ++this.lastSeq, kind, key, value, at };
    this.events.push(event);
    return { ...event };
  }

  /** Marks a row revoked unless it is already: a revoke never rewrites an earlier one. True when it changed. */
  revoke(
    row: { revokedAt: number | null; revokeReason: RevokeReason | null },
    reason: RevokeReason,
    now: number,
  ): boolean {
    if (row.revokedAt !== null) return false;
    row.revokedAt = now;
    row.revokeReason = reason;
    return true;
  }

  /** Marks a session and its unrevoked tokens revoked; true when the session was live. */
  revokeSession(session: SessionRecord, reason: RevokeReason, now: number): boolean {
    const changed = this.revoke(session, reason, now);
    for (const token of this.tokensOf(session.sessionId)) this.revoke(token, reason, now);
    return changed;
  }

  /** Revokes live sessions, one revocation event and one security event each. */
  revokeSessions(sessions: SessionRecord[], reason: RevokeReason, now: number, client: EventClient): RevocationEvent[] {
    return sessions.map((session) => {
      this.revokeSession(session, reason, now);
      return this.sessionRevoked(session, reason, now, client);
    });
  }

  /** Records a session this call revoked: its security event, and the revocation event it returns. */
  sessionRevoked(session: SessionRecord, reason: RevokeReason, now: number, client: EventClient): RevocationEvent {
    this.recordSecurity(sessionEvent(session.subject, session.sessionId, reason, now, client));
    return this.record('session', session.sessionId, 0, now);
  }

  /** Appends a security event with the next sequence number. */
  recordSecurity(event: NewSecurityEvent): void {
    this.securityEvents.push({ ...event, seq: ++this.lastSecuritySeq });
  }
}
