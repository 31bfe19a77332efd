import { UnauthorizedException } from '@nestjs/common';

/**
 * `issue()` was given the subject's epoch from before a subject-wide
 * revocation (a password change, a logout everywhere): the credentials it
 * checked may be the old ones, so no session is created. A 401: sign in again.
 */
export class CredentialsChangedException extends UnauthorizedException {
  constructor() {
    super({ statusCode: 401, message: 'Credentials changed during sign-in, sign in again', error: 'Unauthorized' });
  }
}
