import { expect } from '@jest/globals';
import { INVALID_TOKEN_CHALLENGE } from 'nestjs-jwt-revocation/testing';

/** The WWW-Authenticate challenge of every 401 the guard sends (RFC 6750). */
export const CHALLENGE = INVALID_TOKEN_CHALLENGE;

/** The only two bodies a rejected token may get. */
export const INVALID = { statusCode: 401, message: 'Invalid access token', error: 'Unauthorized' };
export const MISSING = { statusCode: 401, message: 'Missing access token', error: 'Unauthorized' };

/** The Authorization header that carries an access token. */
export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** The shape every 401 of the guard has. */
export function expect401(
  res: { status: number; headers: Record<string, string>; body: unknown },
  body: object = INVALID,
): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe(CHALLENGE);
  expect(res.body).toEqual(body);
}
