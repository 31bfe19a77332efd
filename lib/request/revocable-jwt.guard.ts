import { HttpException, Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { IS_PUBLIC_KEY, JWT_REVOCATION_STRATEGY } from '../jwt-revocation.constants.js';
import { INVALID_TOKEN_CHALLENGE, InvalidTokenException } from '../errors/invalid-token.exception.js';
import { RETRY_AFTER_SECONDS } from '../errors/stale-state.exception.js';
import { RevocableJwtStrategy } from './revocable-jwt.strategy.js';

interface ResponseLike {
  setHeader?: (name: string, value: string) => unknown;
  header?: (name: string, value: string) => unknown;
}

function setHeader(response: ResponseLike, name: string, value: string): void {
  if (typeof response.setHeader === 'function') response.setHeader(name, value);
  else response.header?.(name, value);
}

/**
 * Accepts a request whose access token is valid and not revoked; a 401 with
 * `WWW-Authenticate: Bearer error="invalid_token"` otherwise. Use it per route
 * (`@UseGuards(RevocableJwtGuard)`) or as the app's global guard (APP_GUARD),
 * with `@Public()` on the routes that need no token.
 *
 * Subclass it to change `getRequest` (GraphQL), `isPublic` or `handleRequest`.
 */
@Injectable()
export class RevocableJwtGuard extends AuthGuard(JWT_REVOCATION_STRATEGY) {
  constructor(
    protected readonly reflector: Reflector,
    private readonly strategy: RevocableJwtStrategy,
  ) {
    super();
  }

  /**
   * AuthGuard's flow, run on the module's own passport instance (see
   * RevocableJwtStrategy) instead of the process-wide one.
   */
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.isPublic(context)) return true;
    const request = this.getRequest(context);
    const response = context.switchToHttp().getResponse();
    const user = await new Promise<unknown>((resolve, reject) => {
      const settle = (err: unknown, found: unknown, info: unknown) => {
        try {
          resolve(this.handleRequest(err, found, info, context));
        } catch (error) {
          reject(error);
        }
      };
      try {
        this.strategy.getPassportInstance().authenticate(JWT_REVOCATION_STRATEGY, { session: false }, settle)(
          request,
          response,
          (err?: unknown) => settle(err, undefined, undefined),
        );
      } catch (error) {
        // jsonwebtoken throws (not reports) on some payloads it parsed itself,
        // e.g. `null` under `typ: JWT`: still the token's fault, still a 401.
        settle(error, undefined, undefined);
      }
    });
    (request as { user?: unknown }).user = user;
    return true;
  }

  protected isPublic(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]) === true
    );
  }

  override handleRequest<TUser>(err: unknown, user: TUser, info: unknown, context: ExecutionContext): TUser {
    if (!err && user) return user;
    const response = context.switchToHttp().getResponse<ResponseLike>();
    // A 503 from the revocation check stays a 503; anything else is the token's fault.
    if (err instanceof HttpException && err.getStatus() !== 401) {
      if (err.getStatus() === 503) setHeader(response, 'Retry-After', RETRY_AFTER_SECONDS);
      throw err;
    }
    setHeader(response, 'WWW-Authenticate', INVALID_TOKEN_CHALLENGE);
    const missing = info instanceof Error && info.message === 'No auth token';
    throw new InvalidTokenException(missing ? 'Missing access token' : 'Invalid access token');
  }
}
