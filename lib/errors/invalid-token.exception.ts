import { UnauthorizedException } from '@nestjs/common';

/**
 * Every rejection of a token: 401 with `{ statusCode, message, error }`. The
 * message never carries the library's reason (it could help an attacker and
 * tells a client nothing it can act on).
 */
export class InvalidTokenException extends UnauthorizedException {
  constructor(message = 'Invalid access token') {
    super({ statusCode: 401, message, error: 'Unauthorized' });
  }
}

/** RFC 6750 challenge sent with every 401 of the guard. */
export const INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"';
