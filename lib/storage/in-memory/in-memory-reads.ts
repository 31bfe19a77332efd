import type { SecurityEvent } from '../../interfaces/security-event.interface.js';
import type { SessionRecord, TokenRecord } from '../../interfaces/token-record.interface.js';
import type { HistoryQuery, RevocationSnapshot, SecurityEventQuery, SessionPageQuery } from '../token-store.types.js';
import { copy, newestIssuedFirst, oldestFirst, type InMemoryTables } from './in-memory-tables.js';

/* The larger reads of `InMemoryTokenStore` (as typeorm-reads.ts is the TypeORM store's): each scans its table. */

/** The boot load: revoked access tokens unexpired at `now`, sessions and subjects revoked since `since`. */
export function revocationsOf(db: InMemoryTables, now: number, since: number): RevocationSnapshot {
  const snapshot: RevocationSnapshot = { tokens: [], sessions: [], subjects: [] };
  for (const t of db.tokens.values()) {
    if (t.tokenType === 'access' && t.revokedAt !== null && t.expiresAt > now)
      snapshot.tokens.push([t.jti, t.expiresAt]);
  }
  for (const s of db.sessions.values()) {
    if (s.revokedAt !== null && s.revokedAt > since) snapshot.sessions.push([s.sessionId, s.revokedAt]);
  }
  for (const s of db.subjects.values()) {
    if (s.revokedAt !== null && s.revokedAt > since) snapshot.subjects.push([s.subject, s.tokenVersion, s.revokedAt]);
  }
  return snapshot;
}

/** A page of a subject's live sessions, newest first, after `page.after`. */
export function activeSessionsOf(
  db: InMemoryTables,
  subject: string,
  now: number,
  { limit, after }: SessionPageQuery,
): SessionRecord[] {
  const before = (s: SessionRecord) =>
    after === null ||
    s.createdAt < after.createdAt ||
    (s.createdAt === after.createdAt && s.sessionId < after.sessionId);
  const rows = db.sessionsOf(subject, (s) => s.revokedAt === null && s.expiresAt > now && before(s));
  return copy(rows.sort((a, b) => oldestFirst(b, a)).slice(0, limit));
}

/** Rows of the log and the archive matching every filter given, newest first. */
export function historyOf(db: InMemoryTables, query: HistoryQuery): Array<TokenRecord & { archivedAt: number | null }> {
  const at = query.validAt;
  const matches = (t: TokenRecord) =>
    (query.subject === undefined || t.subject === query.subject) &&
    (query.sessionId === undefined || t.sessionId === query.sessionId) &&
    (at === undefined || (t.issuedAt <= at && t.expiresAt > at && (t.revokedAt === null || t.revokedAt > at)));
  const rows = [
    ...[...db.tokens.values()].filter(matches).map((t) => ({ ...t, archivedAt: null })),
    ...[...db.archive.values()].filter(matches),
  ];
  return copy(rows.sort(newestIssuedFirst).slice(0, query.limit));
}

/** A page of security events, newest first, below `before`. */
export function securityEventsOf(db: InMemoryTables, { subject, before, limit }: SecurityEventQuery): SecurityEvent[] {
  const rows = db.securityEvents.filter(
    (e) => (subject === undefined || e.subject === subject) && (before === null || e.seq < before),
  );
  return copy(rows.slice(-limit).reverse());
}
