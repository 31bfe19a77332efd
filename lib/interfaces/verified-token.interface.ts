/**
 * The claims of an access token that passed the signature, claim and
 * revocation checks. This is what `@CurrentToken()` returns and what the guard
 * puts on `request.user`.
 */
export interface VerifiedToken {
  /** Subject: the user id given to `issue()`. */
  sub: string;
  /** Unique token id: the primary key of its row in the token log. */
  jti: string;
  /** Session id shared by every token of one login. */
  sid: string;
  /** The subject's token version when the token was issued (see "log out everywhere"). */
  ver: number;
  iat: number;
  exp: number;
  nbf?: number;
  iss?: string;
  aud?: string | string[];
  /**
   * True for a token the app signed before adopting the module, accepted in
   * the `migration` window. Its `jti` and `sid` are both `legacy-` and the
   * SHA-256 (base64url) of its signed part: stable for that token, and what
   * `@Logout()` revokes. Its `ver` is 0, so any subject-wide revocation kills
   * it. Its other claims are passed through. Never set on a token of ours.
   */
  legacy?: true;
  /** Custom claims passed to `issue()` (for a legacy token: its own claims). */
  [claim: string]: unknown;
}
