import { SetMetadata } from '@nestjs/common';

/**
 * The budgets a request spends, each counted per minute:
 * - `auth`: per client IP, AUTH_RATE_LIMIT; login, register, refresh and
 *   change-password share it, so one address guesses passwords at one rate
 *   whichever endpoint it uses.
 * - `password`: per account (the access token's `sub`), PASSWORD_RATE_LIMIT;
 *   the per-IP budget alone lets a botnet guess one account's password.
 * - `revoke`: per client IP, REVOKE_RATE_LIMIT; POST /oauth/revoke is public
 *   and writes to the database. A budget of its own: clients logging out do
 *   not eat the login budget, nor login attempts block logging out.
 */
export type RateLimitBucket = 'auth' | 'password' | 'revoke';

export const RATE_LIMIT_BUCKETS = 'SAMPLE:RATE_LIMIT_BUCKETS';

/** Which budgets a route spends, with `@UseGuards(AuthRateLimitGuard)`; without it, `auth`. */
export const RateLimit = (...buckets: RateLimitBucket[]) => SetMetadata(RATE_LIMIT_BUCKETS, buckets);
