import { SetMetadata } from '@nestjs/common';

/**
 * The budgets a request spends, each counted per minute:
 * - `auth`: per client IP, AUTH_RATE_LIMIT; login, register, refresh and
 *   change-password share it, so one address guesses passwords at one rate
 *   whichever endpoint it uses.
 * - `password`: per account (the access token's `sub`), PASSWORD_RATE_LIMIT;
 *   the per-IP budget alone lets a botnet guess one account's password.
 */
export type RateLimitBucket = 'auth' | 'password';

export const RATE_LIMIT_BUCKETS = 'SAMPLE:RATE_LIMIT_BUCKETS';

/** Which budgets a route spends, with `@UseGuards(AuthRateLimitGuard)`; without it, `auth`. */
export const RateLimit = (...buckets: RateLimitBucket[]) => SetMetadata(RATE_LIMIT_BUCKETS, buckets);
