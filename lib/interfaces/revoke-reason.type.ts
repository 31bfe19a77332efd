/**
 * Why a token, session or subject was revoked. Recorded on the rows, so the
 * set is closed: a reason the log does not know is refused at the call.
 */
export const REVOKE_REASONS = [
  'logout',
  'logout_all',
  'password_change',
  'subject_deleted',
  'session_revoked',
  'refresh_reuse',
  /** The oldest session of a subject, evicted by `maxSessionsPerSubject`. */
  'session_limit',
  'admin',
  'compromised',
] as const;

export type RevokeReason = (typeof REVOKE_REASONS)[number];
