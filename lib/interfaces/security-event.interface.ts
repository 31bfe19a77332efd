import type { IssueContext } from './issued-tokens.interface.js';
import type { RevokeReason } from './revoke-reason.type.js';

/**
 * What a security event records:
 * - `token_revoked`: one token (an admin, RFC 7009 revocation of an access token);
 * - `session_revoked`: one session (a logout, "sign out" of a device, the
 *   sessions a password change or "sign out everywhere else" ended, refresh
 *   token reuse (`refresh_reuse`), the session cap (`session_limit`));
 * - `subject_revoked`: every token of a subject (logout everywhere, a password
 *   change that keeps no session, a deleted subject);
 * - `key_retired`: a signing key taken out of the ring (no subject).
 */
export const SECURITY_EVENT_TYPES = ['token_revoked', 'session_revoked', 'subject_revoked', 'key_retired'] as const;

export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

/**
 * One row of the audit trail: written in the same transaction as the
 * revocation it records, so there is never one without the other. A call
 * that changes nothing (a session revoked already) records nothing.
 */
export interface SecurityEvent {
  /** Database sequence: the order of events, newest highest. */
  seq: number;
  /** Epoch ms. */
  at: number;
  type: SecurityEventType;
  /** Null for `key_retired`. */
  subject: string | null;
  sessionId: string | null;
  /** `token_revoked`: the token's jti; `key_retired`: the key's kid; otherwise null. */
  target: string | null;
  /** Null for `key_retired`. */
  reason: RevokeReason | null;
  /** The client whose request caused it, as the app passed it (see `SecurityClient`); null when none was given. */
  ip: string | null;
  userAgent: string | null;
}

/**
 * The client of the request behind a revocation: `@Logout()`, the refresh that
 * detected reuse and the login that evicted a session over the cap record
 * theirs; the revoking methods of `TokenLogService` take one from the app.
 */
export type SecurityClient = Pick<IssueContext, 'userAgent' | 'ip'>;

/** A page of a subject's security events, newest first; `next` continues after the last one. */
export interface SecurityEventPage {
  events: SecurityEvent[];
  next: string | null;
}
