import {
  Injectable,
  InternalServerErrorException,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { concatMap, type Observable } from 'rxjs';
import { LOGOUT_KEY } from '../jwt-revocation.constants.js';
import { TokenLogService } from '../tokens/token-log.service.js';
import type { VerifiedToken } from '../interfaces/verified-token.interface.js';
import { clientOf } from './request-client.js';
import { SessionCookies } from './session-cookies.js';

export type LogoutScope = 'session' | 'all';

/**
 * Behind `@Logout()` and `@LogoutAll()`: once the handler has succeeded,
 * revokes the caller's session (or every token of the caller), and only then
 * lets the response go. A handler that throws revokes nothing. In cookie
 * mode the response also clears both cookies.
 */
@Injectable()
export class LogoutInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenLogService,
    private readonly cookies: SessionCookies,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const scope = this.reflector.get<LogoutScope | undefined>(LOGOUT_KEY, context.getHandler());
    const token = context.switchToHttp().getRequest<{ user?: VerifiedToken }>().user;
    if (!scope) return next.handle();
    if (!token || typeof token.sid !== 'string') {
      throw new InternalServerErrorException('@Logout() and @LogoutAll() need RevocableJwtGuard on the route');
    }
    return next.handle().pipe(
      concatMap(async (body) => {
        await this.tokens.logout(token, scope, clientOf(context.switchToHttp().getRequest()));
        // Cookie mode: the browser drops both cookies with this answer (the tokens in them are dead now).
        this.cookies.clearAfterLogout(context.switchToHttp().getResponse());
        return body;
      }),
    );
  }
}
