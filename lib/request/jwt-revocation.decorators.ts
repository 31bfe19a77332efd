import {
  applyDecorators,
  createParamDecorator,
  SetMetadata,
  UseInterceptors,
  type ExecutionContext,
} from '@nestjs/common';
import { CROSS_SITE_ALLOWED_KEY, IS_PUBLIC_KEY, LOGOUT_KEY } from '../jwt-revocation.constants.js';
import { LogoutInterceptor, type LogoutScope } from './logout.interceptor.js';
import type { VerifiedToken } from '../interfaces/verified-token.interface.js';

/** The route needs no token, even under a global RevocableJwtGuard. */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);

/**
 * Cookie mode: the route takes unsafe requests from other sites as long as
 * they carry neither of the module's cookies (an identity provider's
 * `form_post` callback, a form on a partner's site). One that carries a cookie
 * is still checked, so the route cannot be used to ride on a session.
 */
export const AllowCrossSite = () => SetMetadata(CROSS_SITE_ALLOWED_KEY, true);

const logout = (scope: LogoutScope) =>
  applyDecorators(SetMetadata(LOGOUT_KEY, scope), UseInterceptors(LogoutInterceptor));

/** After the handler succeeds, the caller's session (access and refresh tokens) is revoked. */
export const Logout = () => logout('session');

/** After the handler succeeds, every token of the caller, on every device, is revoked. */
export const LogoutAll = () => logout('all');

const tokenOf = (context: ExecutionContext) => context.switchToHttp().getRequest<{ user?: VerifiedToken }>().user;

/** The verified claims of the caller's access token (or one claim: `@CurrentToken('sid')`). */
export const CurrentToken = createParamDecorator(
  (claim: keyof VerifiedToken | undefined, context: ExecutionContext) => {
    const token = tokenOf(context);
    return claim ? token?.[claim] : token;
  },
);

/** The caller's subject (`sub`). */
export const CurrentSubject = createParamDecorator((_: unknown, context: ExecutionContext) => tokenOf(context)?.sub);
