/**
 * Sliding renewal: while a client is active, `RevocableJwtGuard` hands it a
 * new access token in the same session before the one it holds expires, so
 * an active browser needs no refresh. Off unless given. See README "Sliding
 * renewal".
 */
export interface SlidingRenewalOptions {
  /**
   * Seconds before its `exp` from which an access token is renewed by the
   * next request through the guard: at least 1, less than `accessTokenTtl`.
   * Say 300 with 15-minute tokens: at most one new token per session every
   * 10 minutes of activity.
   */
  threshold: number;
  /**
   * The response header that carries a renewed token when the request did
   * not send the access cookie (a Bearer client, or no cookie mode).
   * Default `X-Renewed-Access-Token`. A browser client on another origin
   * reads it only if CORS lists it in `exposedHeaders`.
   */
  header?: string;
}
