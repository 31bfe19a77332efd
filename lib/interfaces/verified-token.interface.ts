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
  /** Custom claims passed to `issue()`. */
  [claim: string]: unknown;
}
