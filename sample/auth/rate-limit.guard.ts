import { HttpException, HttpStatus, Inject, Injectable, type CanActivate, type ExecutionContext, type OnModuleDestroy } from '@nestjs/common';

export const AUTH_RATE_LIMIT = Symbol('AUTH_RATE_LIMIT');

interface RequestLike {
  ip?: string;
}

interface ResponseLike {
  setHeader(name: string, value: string): unknown;
}

const WINDOW_MS = 60_000;

/**
 * At most `limit` login, register or refresh attempts per client IP per
 * minute (fixed window), 429 with Retry-After past it: guessing passwords
 * or refresh tokens gets slow. In memory, per instance.
 *
 * Not @nestjs/throttler: it is CommonJS and requires @nestjs/common, which
 * Nest 12 ships as ESM only; Node 20 manages that, Jest's ESM mode does not,
 * so the sample could not be tested with it.
 */
@Injectable()
export class AuthRateLimitGuard implements CanActivate, OnModuleDestroy {
  private windowStart = Date.now();
  private counts = new Map<string, number>();
  private readonly sweep: NodeJS.Timeout;

  constructor(@Inject(AUTH_RATE_LIMIT) private readonly limit: number) {
    // A new window forgets every client: memory stays bounded by one minute of clients.
    this.sweep = setInterval(() => this.reset(), WINDOW_MS);
    this.sweep.unref();
  }

  canActivate(context: ExecutionContext): boolean {
    if (Date.now() - this.windowStart >= WINDOW_MS) this.reset();
    const key = context.switchToHttp().getRequest<RequestLike>().ip ?? 'unknown';
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    if (count <= this.limit) return true;
    const retryAfter = Math.ceil((this.windowStart + WINDOW_MS - Date.now()) / 1000);
    context.switchToHttp().getResponse<ResponseLike>().setHeader('Retry-After', String(Math.max(1, retryAfter)));
    throw new HttpException({ statusCode: 429, message: 'Too many attempts, retry later', error: 'Too Many Requests' }, HttpStatus.TOO_MANY_REQUESTS);
  }

  onModuleDestroy(): void {
    clearInterval(this.sweep);
  }

  private reset(): void {
    this.windowStart = Date.now();
    this.counts = new Map();
  }
}
