import { HttpException, HttpStatus, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { RATE_LIMIT_BUCKETS, type RateLimitBucket } from './rate-limit.decorator.js';
import { FixedWindowLimiter } from './rate-limiter.js';

/** Per-minute limits of each budget (see RateLimitBucket). */
export const RATE_LIMITS = Symbol('RATE_LIMITS');
export type RateLimits = Record<RateLimitBucket, number>;

interface RequestLike {
  ip?: string;
  /** The verified claims: the global RevocableJwtGuard runs before controller guards. */
  user?: { sub?: unknown };
}

interface ResponseLike {
  setHeader(name: string, value: string): unknown;
}

const KEY_OF: Record<RateLimitBucket, (request: RequestLike) => string> = {
  auth: (request) => request.ip ?? 'unknown',
  password: (request) => {
    // Counting every caller under one key would lock everyone out: a misplaced decorator must show at once.
    if (typeof request.user?.sub !== 'string')
      throw new Error('RateLimit("password") needs a route behind the JWT guard');
    return request.user.sub;
  },
  revoke: (request) => request.ip ?? 'unknown',
};

/**
 * 429 with Retry-After once a request would go past any budget its route
 * spends (@RateLimit, fixed windows of a minute): guessing passwords or
 * refresh tokens gets slow. Every budget counts the request, even one already
 * over: an attempt is an attempt.
 *
 * Not @nestjs/throttler: it is CommonJS and requires @nestjs/common, which
 * Nest 12 ships as ESM only; Node 20 manages that, Jest's ESM mode does not,
 * so the sample could not be tested with it.
 */
@Injectable()
export class AuthRateLimitGuard implements CanActivate {
  private readonly limiters: Record<RateLimitBucket, FixedWindowLimiter>;

  constructor(
    @Inject(RATE_LIMITS) limits: RateLimits,
    private readonly reflector: Reflector,
  ) {
    this.limiters = {
      auth: new FixedWindowLimiter(limits.auth),
      password: new FixedWindowLimiter(limits.password),
      revoke: new FixedWindowLimiter(limits.revoke),
    };
  }

  canActivate(context: ExecutionContext): boolean {
    const buckets = this.reflector.getAllAndOverride<RateLimitBucket[] | undefined>(RATE_LIMIT_BUCKETS, [
      context.getHandler(),
      context.getClass(),
    ]) ?? ['auth'];
    const request = context.switchToHttp().getRequest<RequestLike>();
    const retryAfter = Math.max(...buckets.map((bucket) => this.limiters[bucket].hit(KEY_OF[bucket](request))));
    if (retryAfter === 0) return true;
    context.switchToHttp().getResponse<ResponseLike>().setHeader('Retry-After', String(retryAfter));
    throw new HttpException(
      { statusCode: 429, message: 'Too many attempts, retry later', error: 'Too Many Requests' },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
