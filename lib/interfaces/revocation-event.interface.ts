/**
 * One revocation, as instances tell each other about it. Written to the
 * database in the revoking transaction (durable first), then published.
 * Applying an event twice changes nothing, so a catch-up may re-read freely.
 */
export interface RevocationEvent {
  /** Database sequence: a jump tells an instance it missed something. */
  seq: number;
  kind: 'token' | 'session' | 'subject';
  /** jti, session id or subject. */
  key: string;
  /** token: its expiry (epoch ms); subject: the new token version; session: unused (0). */
  value: number;
  /** When it happened, epoch ms. */
  at: number;
}
