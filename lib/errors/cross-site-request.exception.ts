import { ForbiddenException } from '@nestjs/common';

/**
 * Cookie mode refused an unsafe request (POST, PUT, PATCH, DELETE, ...)
 * that a page of another site may have sent: `Sec-Fetch-Site` or `Origin`
 * names neither the app's own origin nor a trusted one. A 403, not a 401:
 * the cookies may be fine, the page that sent them is not.
 */
export class CrossSiteRequestException extends ForbiddenException {
  constructor() {
    super({ statusCode: 403, message: 'Cross-site request refused', error: 'Forbidden' });
  }
}
