import { HttpException, Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { CROSS_SITE_ALLOWED_KEY, IS_PUBLIC_KEY, JWT_REVOCATION_STRATEGY } from '../jwt-revocation.constants.js';
import { INVALID_TOKEN_CHALLENGE, InvalidTokenException } from '../errors/invalid-token.exception.js';
import { RETRY_AFTER_SECONDS } from '../errors/stale-state.exception.js';
import type { VerifiedToken } from '../interfaces/verified-token.interface.js';
import { AccessRenewal } from '../tokens/access-renewal.js';
import { AccessTokenCheck, TokenNotAccepted } from './access-token-check.js';
import { clientOf } from './request-client.js';
import { SessionCookies } from './session-cookies.js';

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
 * It asks `AccessTokenCheck` directly rather than going through passport's
 * authenticate: the same checks as the module's passport strategy (which
 * stays registered for `AuthGuard([...])` composition), without passport's
 * per-request machinery. It still extends `AuthGuard` so that subclasses
 * keep its hooks: override `getRequest` (GraphQL), `isPublic` or
 * `handleRequest`.
 *
 * In cookie mode (the `cookies` option) it also refuses, with a 403, unsafe
 * requests another site's page may have sent, on every route it runs on,
 * `@Public()` ones included (login and refresh need it most), and a 401 for
 * a token read from the access cookie drops that cookie.
 *
 * With `slidingRenewal`, a request whose token is within the threshold of
 * its `exp` also gets a new access token in the same session (see
 * `AccessRenewal`): as the access cookie when the token came from it, else
 * in the `slidingRenewal.header` response header. The passport strategy
 * does not renew: `AuthGuard([...])` composition keeps passport's contract.
 */
@Injectable()
export class RevocableJwtGuard extends AuthGuard(JWT_REVOCATION_STRATEGY) {
  constructor(
    protected readonly reflector: Reflector,
    private readonly check: AccessTokenCheck,
    protected readonly cookies: SessionCookies,
    protected readonly renewal: AccessRenewal,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = this.getRequest(context);
    // Before @Public(): a forged login or refresh needs no access token.
    if (this.cookies.enabled) this.cookies.assertNotCrossSite(request, this.allowsCrossSite(context));
    if (this.isPublic(context)) return true;
    let token: VerifiedToken | false = false;
    let err: unknown = null;
    let info: unknown;
    try {
      token = await this.check.run(request);
    } catch (error) {
      // handleRequest's contract, as passport calls it: a refused token is "info", anything else "err".
      if (error instanceof TokenNotAccepted) info = error;
      else err = error;
    }
    const user = this.handleRequest(err, token, info, context);
    (request as { user?: unknown }).user = user;
    if (token !== false && this.renewal.isDue(token)) await this.renew(token, request, context);
    return true;
  }

  /**
   * Sliding renewal: the new token goes where the client keeps the old one,
   * the access cookie or the renewal header. A response that cannot take
   * headers (GraphQL over another transport) gets none, and its request
   * goes on with the token it has.
   */
  protected async renew(token: VerifiedToken, request: unknown, context: ExecutionContext): Promise<void> {
    const response = context.switchToHttp().getResponse<ResponseLike | undefined>();
    if (typeof response?.setHeader !== 'function' && typeof response?.header !== 'function') return;
    const renewed = await this.renewal.renew(token, clientOf(request));
    if (renewed === null) return;
    // A credential in the answer: no cache may keep it for another client.
    setHeader(response, 'Cache-Control', 'no-store');
    if (this.cookies.authenticatesByCookie(request))
      this.cookies.setAccess(response, renewed.accessToken, renewed.expiresIn);
    else setHeader(response, this.renewal.header as string, renewed.accessToken);
  }

  /** `@AllowCrossSite()` on the handler or its controller. */
  protected allowsCrossSite(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean>(CROSS_SITE_ALLOWED_KEY, [context.getHandler(), context.getClass()]) ===
      true
    );
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
    if (this.cookies.enabled) this.cookies.dropRefusedAccessCookie(this.getRequest(context), response);
    const missing = info instanceof Error && info.message === TokenNotAccepted.missing;
    throw new InvalidTokenException(missing ? 'Missing access token' : 'Invalid access token');
  }
}
