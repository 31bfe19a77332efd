import type { RevocationEvent } from '../interfaces/revocation-event.interface.js';
import type { RevokeReason } from '../interfaces/revoke-reason.type.js';
import type { SessionRecord, TokenRecord } from '../interfaces/token-record.interface.js';

/** What a new login writes: the session and its first access and refresh tokens. */
export interface NewSession {
  session: SessionRecord;
  /** Rows without `subjectVersion`: the store fills it in from the subject's state in the same transaction. */
  tokens: Omit<TokenRecord, 'subjectVersion'>[];
  /** The subject's epoch when the app checked the credentials; another epoch now means no session. Null: no check. */
  epoch: number | null;
  /** Live sessions the subject may hold with this one; the oldest beyond it are revoked (`session_limit`). */
  maxSessions: number;
}

/** What a login wrote, or why it wrote nothing. */
export type CreatedSession =
  | { created: true; subjectVersion: number; evicted: RevocationEvent[] }
  /** A subject-wide revocation (logout everywhere, password change) came after the credentials were checked. */
  | { created: false };

/** What a refresh wrote, or what stopped it. */
export type RotationResult =
  | { outcome: 'rotated'; subjectVersion: number }
  /** The token was spent already: its successors (access and refresh) decide between a retry and reuse. */
  | { outcome: 'spent'; presented: TokenRecord; successors: TokenRecord[]; session: SessionRecord | null }
  | { outcome: 'invalid' };

export interface RotationRequest {
  tokenHash: string;
  now: number;
  /** Builds the new pair in the presented token's session; the session row is given for lifetime caps. */
  next: (presented: TokenRecord, session: SessionRecord) => Omit<TokenRecord, 'subjectVersion'>[];
  /** The session must have been created after this (epoch ms): its absolute lifetime. */
  createdAfter: number | null;
  /** The session must have been seen after this (epoch ms): its idle timeout. */
  seenAfter: number | null;
  userAgent: string | null;
  ip: string | null;
}

/** The durable revocation state an instance loads at boot. */
export interface RevocationSnapshot {
  /** Revoked, unexpired access tokens: [jti, expiresAt ms]. */
  tokens: Array<[string, number]>;
  /** Sessions revoked since `since`: [sessionId, revokedAt ms]. */
  sessions: Array<[string, number]>;
  /** Subjects that logged out everywhere since `since`: [subject, tokenVersion, revokedAt ms]. */
  subjects: Array<[string, number, number]>;
}

export interface RevokedToken {
  jti: string;
  subject: string;
  sessionId: string;
  tokenType: TokenRecord['tokenType'];
  expiresAt: number;
  /** False when the token was revoked already: nothing was written. */
  changed: boolean;
  /** The event other instances apply (a change to an access token only: refresh tokens are checked in the database). */
  event: RevocationEvent | null;
}

/** A revoked session; `event` is null when it was revoked already and nothing was written. */
export interface RevokedSession {
  session: SessionRecord;
  event: RevocationEvent | null;
}

/** A verified access token the log may not know (signed elsewhere with a key of the ring). */
export interface PresentedToken {
  subject: string;
  sessionId: string;
  jti: string;
  /** Epoch ms. */
  issuedAt: number;
  expiresAt: number;
}

/** A page of a subject's live sessions, newest first; `next` continues after the last one. */
export interface SessionPageQuery {
  limit: number;
  /** The last session of the previous page: its creation time and id. */
  after: { createdAt: number; sessionId: string } | null;
}

/** What one sweeper may do while it holds the cluster-wide sweep lock. */
export interface SweepBatches {
  /**
   * Moves up to `limit` rows that expired before `cutoff` (epoch ms) and that
   * no check needs any more from the log to the archive, in one transaction.
   * Returns how many moved.
   */
  archive(cutoff: number, now: number, limit: number): Promise<number>;
  /** Deletes up to `limit` archive rows that expired before `before`, in one transaction. */
  purgeArchive(before: number, limit: number): Promise<number>;
  /** Deletes up to `limit` sessions whose every token expired before `cutoff` and that hold no live spent refresh row. */
  purgeSessions(cutoff: number, limit: number): Promise<number>;
  /** Deletes up to `limit` revocation events older than `before`: no instance needs them to catch up. */
  purgeEvents(before: number, limit: number): Promise<number>;
}

/** A question for `findHistory`: rows of the log and the archive together. */
export interface HistoryQuery {
  subject?: string;
  sessionId?: string;
  /** Tokens that were valid at this time (epoch ms): issued before, expiring after, not revoked by then. */
  validAt?: number;
  /** Most rows returned. */
  limit: number;
}

/**
 * The storage seam of the module. The default is `TypeOrmTokenStore`; an app
 * replaces it by providing another class under the `TokenStore` token. Every
 * write is one transaction: a call either happens whole or not at all.
 */
export abstract class TokenStore {
  /**
   * Writes a new session and its tokens while holding the subject's row, so
   * a login and a subject-wide revocation never interleave: refuses when the
   * epoch moved, evicts the oldest sessions past `maxSessions`.
   */
  abstract createSession(input: NewSession): Promise<CreatedSession>;
  /** The subject's epoch (0 for a subject never seen): read it before checking credentials. */
  abstract subjectEpoch(subject: string): Promise<number>;
  /** Exchanges a refresh token for a new pair, atomically: of concurrent calls with one token, one rotates. */
  abstract rotate(request: RotationRequest): Promise<RotationResult>;
  /** A refresh token's row by the hash of the token. */
  abstract findRefreshToken(tokenHash: string): Promise<TokenRecord | null>;
  /**
   * Every revoke writes its rows and its event(s) in one transaction, and
   * returns the events for this instance to apply and publish.
   */
  /** Marks one token revoked (idempotent). Null when the jti is unknown. */
  abstract revokeToken(jti: string, reason: RevokeReason, now: number): Promise<RevokedToken | null>;
  /** Marks a session and all its tokens revoked (idempotent). Null when the session is unknown. */
  abstract revokeSession(sessionId: string, reason: RevokeReason, now: number): Promise<RevokedSession | null>;
  /**
   * Revokes the session of a token the log may not know, writing a revoked
   * session row for it when there is none, so every instance (and the next
   * boot) refuses it. Null event: it was revoked already.
   */
  abstract revokePresented(token: PresentedToken, reason: RevokeReason, now: number): Promise<RevocationEvent | null>;
  /** Raises the subject's token version and epoch and marks its sessions and tokens revoked. */
  abstract revokeSubject(subject: string, reason: RevokeReason, now: number): Promise<{ version: number; event: RevocationEvent }>;
  /** Raises the subject's epoch and revokes every live session of it but one; one event per session it revoked. */
  abstract revokeOtherSessions(subject: string, keepSessionId: string, reason: RevokeReason, now: number): Promise<RevocationEvent[]>;
  /** Events that happened after `since` (epoch ms), in sequence order: an instance's catch-up. */
  abstract loadEvents(since: number): Promise<RevocationEvent[]>;
  /** What must be in memory at boot: revocations that can still matter at `now`. */
  abstract loadRevocations(now: number, since: number): Promise<RevocationSnapshot>;
  /** Allowlist mode: active (unrevoked, unexpired) access tokens, [jti, expiresAt]. */
  abstract loadActiveAccessTokens(now: number): Promise<Array<[string, number]>>;
  /** Allowlist mode: one active access token's expiry, or null. */
  abstract findActiveAccessToken(jti: string, now: number): Promise<number | null>;
  abstract findToken(jti: string): Promise<TokenRecord | null>;
  abstract findSession(sessionId: string): Promise<SessionRecord | null>;
  /** Live sessions of a subject, newest first (creation time, then id, both descending), at most `page.limit`. */
  abstract listActiveSessions(subject: string, now: number, page: SessionPageQuery): Promise<SessionRecord[]>;
  /** Writes "last seen" times gathered in memory: sessionId -> epoch ms. */
  abstract touchSessions(lastSeen: Map<string, number>): Promise<void>;
  /**
   * Runs `work` while holding the sweep lock, one holder across every
   * instance on the database; resolves null at once when another holds it.
   */
  abstract sweep<T>(work: (batches: SweepBatches) => Promise<T>): Promise<T | null>;
  /** How many log rows expired before `cutoff` (progress reports). */
  abstract countExpired(cutoff: number): Promise<number>;
  /** Token rows from the log and the archive, newest first. */
  abstract findHistory(query: HistoryQuery): Promise<Array<TokenRecord & { archivedAt: number | null }>>;
}
