import type { RevocationEvent } from './revocation-event.interface.js';
import type { RevokeReason } from './revoke-reason.type.js';
import type { SessionRecord, TokenRecord } from './token-record.interface.js';

/** What a new login writes: the session and its first access and refresh tokens. */
export interface NewSession {
  session: SessionRecord;
  /** Rows without `subjectVersion`: the store fills it in from the subject's state in the same transaction. */
  tokens: Omit<TokenRecord, 'subjectVersion'>[];
}

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
  /** The event other instances apply (access tokens only: refresh tokens are checked in the database). */
  event: RevocationEvent | null;
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
  /** Writes a new session and its tokens; returns the subject's current token version. */
  abstract createSession(input: NewSession): Promise<number>;
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
  abstract revokeSession(sessionId: string, reason: RevokeReason, now: number): Promise<{ session: SessionRecord; event: RevocationEvent } | null>;
  /** Raises the subject's token version and marks its sessions and tokens revoked. */
  abstract revokeSubject(subject: string, reason: RevokeReason, now: number): Promise<{ version: number; event: RevocationEvent }>;
  /** Revokes every live session of a subject but one. */
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
  abstract listActiveSessions(subject: string, now: number): Promise<SessionRecord[]>;
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
