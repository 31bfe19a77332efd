/**
 * Credential fingerprint: every token of a session carries a keyed
 * fingerprint of a per-subject secret the app names (its password hash, or a
 * stamp it changes with the credentials), and the guard and `refresh()`
 * refuse a session whose secret has changed since the login, even when it
 * changed outside the app (an admin tool, a database script). Off unless
 * given. See README "Credential fingerprint".
 */
export interface CredentialFingerprintOptions {
  /**
   * The subject's current secret, or null for a subject that no longer
   * exists (its tokens are refused). Never stored, never put in a token:
   * tokens carry an HMAC of it under a key derived from the signing key.
   */
  secretOf: (subject: string) => string | null | Promise<string | null>;
  /** Seconds a subject's answer is reused by the guard (0: asked on every request). Default 30. */
  cacheTtl?: number;
}
