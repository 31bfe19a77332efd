import type { RevocationEvent } from '../interfaces/revocation-event.interface.js';
import type { SecurityEvent } from '../interfaces/security-event.interface.js';
import type { SessionRecord, TokenRecord } from '../interfaces/token-record.interface.js';

/* What goes in and out of `TokenStore`'s calls (see token-store.interface.ts). */

/** What a new login writes: the session and its first access and refresh tokens. */
export interface NewSession {
  session: SessionRecord;
  /** Rows without `subjectVersion`: the store fills it in from the subject's state in the same transaction. */
  tokens: Omit<TokenRecord, 'subjectVersion'>[];
  /** The subject's epoch when the app checked the credentials; another epoch now means no session. Null: no check. */
  epoch: number | null;
  /**
   * Live sessions (unrevoked, expiring after `session.createdAt`) the subject
   * may hold with this one; the oldest beyond it are revoked (`session_limit`),
   * tokens and all, each with a session event in `evicted` and a security
   * event (`session_limit`) naming this session's user agent and IP as the
   * client.
   */
  maxSessions: number;
}

/** What a login wrote, or why it wrote nothing. */
export type CreatedSession =
  | { created: true; subjectVersion: number; evicted: RevocationEvent[] }
  /** A subject-wide revocation (logout everywhere, password change) came after the credentials were checked: nothing was written. */
  | { created: false };

/** What a refresh wrote, or what stopped it. */
export type RotationResult =
  | { outcome: 'rotated'; subjectVersion: number }
  /**
   * The token was spent already (reported before revoked or expired: a replay
   * is evidence): its successors (access and refresh, the rows whose
   * `parentJti` is its jti) decide between a retry and reuse.
   */
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
  /**
   * A rotation writes these to the session row, with `lastSeenAt` = `now` and
   * `expiresAt` = the latest expiry of the new pair.
   */
  userAgent: string | null;
  ip: string | null;
}

/**
 * Sliding renewal: a new access token in the session of a verified one that
 * is close to its expiry (the guard asks, see `slidingRenewal`).
 */
export interface RenewalRequest {
  /** The presented access token's jti and session. */
  jti: string;
  sessionId: string;
  now: number;
  /**
   * Access tokens of the session expiring after this (epoch ms) are not due
   * for renewal: the newest such one, when there is one, is the answer, so
   * racers near the threshold all get one token and write one row.
   */
  dueAfter: number;
  /**
   * Builds the new access row (`parentJti` = the presented jti) from the
   * presented row and the session. Null when a new token would gain nothing
   * (its `exp` is capped at the session's end): nothing is written.
   */
  next: (presented: TokenRecord, session: SessionRecord) => Omit<TokenRecord, 'subjectVersion'> | null;
  /** A renewal writes these to the session row, with `lastSeenAt` moved forward to `now`. */
  userAgent: string | null;
  ip: string | null;
}

/** What a renewal gave, or why it gave nothing. */
export type RenewalResult =
  /** The session's token to hand out: written by this call (`written`) or by an earlier renewal. */
  | { outcome: 'renewed'; token: TokenRecord; written: boolean }
  /**
   * Nothing written: the presented token is unknown, revoked or not an
   * access token of that session, the session is revoked, the subject's
   * token version moved past the token's, or `next` gave null.
   */
  | { outcome: 'refused' };

/** The durable revocation state an instance loads at boot. */
export interface RevocationSnapshot {
  /** Revoked access tokens unexpired at `now`, whenever revoked: [jti, expiresAt ms]. */
  tokens: Array<[string, number]>;
  /** Sessions revoked since `since`: [sessionId, revokedAt ms]. */
  sessions: Array<[string, number]>;
  /** Subjects that logged out everywhere (`revokeSubject`) since `since`, once each: [subject, current tokenVersion, latest revokedAt ms]. */
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

/** A revoked session (the row after the call); `event` is null when it was revoked already and nothing was written. */
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
   * no check needs any more from the log to the archive (with `archivedAt` =
   * `now`), in one transaction. A spent refresh row stays while its session is
   * live at `now` (unrevoked, expiring after it): reuse detection needs it.
   * Returns how many moved.
   */
  archive(cutoff: number, now: number, limit: number): Promise<number>;
  /** Deletes up to `limit` archive rows that expired before `before`, in one transaction. */
  purgeArchive(before: number, limit: number): Promise<number>;
  /** Deletes up to `limit` sessions whose every token expired before `cutoff` and that hold no live spent refresh row. */
  purgeSessions(cutoff: number, limit: number): Promise<number>;
  /** Deletes up to `limit` revocation events older than `before`: no instance needs them to catch up. */
  purgeEvents(before: number, limit: number): Promise<number>;
  /**
   * Deletes up to `limit` security events older than `before`
   * (`securityEventRetention`). Optional: a store that keeps no security
   * events leaves it out.
   */
  purgeSecurityEvents?(before: number, limit: number): Promise<number>;
}

/** A question for `findHistory`: rows of the log and the archive together. */
export interface HistoryQuery {
  subject?: string;
  sessionId?: string;
  /** Tokens that were valid at this time (epoch ms): issued at or before it, expiring after it, not revoked at or before it. */
  validAt?: number;
  /** Most rows returned. */
  limit: number;
}

/** The client behind a revocation, as its security event records it: the user agent clipped to 512 characters, the IP to 64. */
export interface EventClient {
  ip: string | null;
  userAgent: string | null;
}

/** A security event before the store numbers it. */
export type NewSecurityEvent = Omit<SecurityEvent, 'seq'>;

/** A page of security events for `listSecurityEvents`, newest (highest `seq`) first. */
export interface SecurityEventQuery {
  /** One subject's events; undefined for every event, key retirements included. */
  subject: string | undefined;
  /** Events with a lower `seq` only: the last one of the previous page. Null: from the newest. */
  before: number | null;
  limit: number;
}
