import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { SessionCookies } from './session-cookies.js';

/**
 * Cookie mode's cross-site check alone, for routes `RevocableJwtGuard` does
 * not run on: an app that puts the guard on some routes
 * (`@UseGuards(RevocableJwtGuard)`) rather than globally adds
 * `@UseGuards(CsrfGuard)` to its login and refresh routes, which need it
 * most (login forgery; the refresh cookie). A 403 (`CrossSiteRequestException`)
 * for an unsafe request from another site; without cookie mode it lets
 * everything through. Under a global `RevocableJwtGuard` it is not needed:
 * the guard runs the same check on every route, `@Public()` ones included.
 */
@Injectable()
export class CsrfGuard implements CanActivate {
  constructor(private readonly cookies: SessionCookies) {}

  canActivate(context: ExecutionContext): boolean {
    this.cookies.assertNotCrossSite(context.switchToHttp().getRequest());
    return true;
  }
}
