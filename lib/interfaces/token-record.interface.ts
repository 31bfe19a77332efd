import type { RevokeReason } from './revoke-reason.type.js';

export type TokenType = 'access' | 'refresh';

/** One row of the token log (and of the archive, which adds `archivedAt`). Times are epoch milliseconds. */
export interface TokenRecord {
  jti: string;
  subject: string;
  tokenType: TokenType;
  sessionId: string;
  /** The subject's token version the token was issued under. */
  subjectVersion: number;
  issuedAt: number;
  expiresAt: number;
  revokedAt: number | null;
  revokeReason: RevokeReason | null;
  userAgent: string | null;
  ip: string | null;
  /** Custom claims, JSON. */
  claims: Record<string, unknown> | null;
  /** Refresh tokens only: SHA-256 of the token, hex. Never the token itself. */
  tokenHash: string | null;
  /** Refresh tokens only: the refresh token this one replaced. */
  parentJti: string | null;
  /** Refresh tokens only: when it was exchanged for a new pair. */
  spentAt: number | null;
}

export interface ArchivedTokenRecord extends TokenRecord {
  archivedAt: number;
}

/** One login: the tokens issued by `issue()` and every refresh after it. */
export interface SessionRecord {
  sessionId: string;
  subject: string;
  createdAt: number;
  lastSeenAt: number;
  /** The latest expiry of any token of the session (refresh included). */
  expiresAt: number;
  revokedAt: number | null;
  revokeReason: RevokeReason | null;
  userAgent: string | null;
  ip: string | null;
}

/** Per-subject revocation state: tokens issued under a lower version are dead. */
export interface SubjectStateRecord {
  subject: string;
  tokenVersion: number;
  /**
   * Counts subject-wide revocations (every session, or every session but one):
   * `issue()` given an older epoch refuses, so a login whose password check
   * ran before a password change cannot outlive it.
   */
  epoch: number;
  revokedAt: number | null;
  revokeReason: RevokeReason | null;
}

/** What `listSessions()` returns. */
export interface SessionInfo {
  id: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
}

/** A page of `listSessions()`: newest first; pass `next` as `cursor` for the following page (null: no more). */
export interface SessionPage {
  sessions: SessionInfo[];
  next: string | null;
}
