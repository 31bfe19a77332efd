import { BadRequestException } from '@nestjs/common';

/**
 * Request bodies, checked by hand: the sample keeps its dependencies to the
 * Nest stack. Every failure is a 400 naming the field.
 */
function record(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new BadRequestException('Body must be a JSON object');
  return body as Record<string, unknown>;
}

function text(body: Record<string, unknown>, field: string, min: number, max: number, pattern?: RegExp): string {
  const value = body[field];
  if (typeof value !== 'string') throw new BadRequestException(`${field} must be a string`);
  if (value.length < min || value.length > max)
    throw new BadRequestException(`${field} must be ${min} to ${max} characters`);
  if (pattern && !pattern.test(value)) throw new BadRequestException(`${field} has characters that are not allowed`);
  return value;
}

const USERNAME = /^[A-Za-z0-9_.-]+$/;

export interface Credentials {
  username: string;
  password: string;
}

export function credentials(body: unknown): Credentials {
  const b = record(body);
  return { username: text(b, 'username', 3, 64, USERNAME), password: text(b, 'password', 8, 256) };
}

/** Login accepts any password length up to the cap: rules may have changed since registration. */
export function loginCredentials(body: unknown): Credentials {
  const b = record(body);
  return { username: text(b, 'username', 1, 64), password: text(b, 'password', 1, 256) };
}

export function passwordChange(body: unknown): { currentPassword: string; newPassword: string } {
  const b = record(body);
  return { currentPassword: text(b, 'currentPassword', 1, 256), newPassword: text(b, 'newPassword', 8, 256) };
}

export function refreshRequest(body: unknown): string {
  return text(record(body), 'refreshToken', 1, 8192);
}

/**
 * `"session": "cookie"` in a login asks for the tokens as HttpOnly cookies (a
 * browser); without it they come in the body (an API client).
 */
export function wantsCookies(body: unknown): boolean {
  const session = record(body).session;
  if (session === undefined) return false;
  if (session !== 'cookie') throw new BadRequestException('session must be "cookie" when given');
  return true;
}

/** A refresh that names no token in its body (none, or `{}`): a browser's, whose token is in the refresh cookie. */
export function refreshByCookie(body: unknown): boolean {
  return body === undefined || (body !== null && typeof body === 'object' && !('refreshToken' in body));
}

/** ?limit=&cursor= of a paged list (GET /auth/sessions, /me/security-events): a page size of 1 to 100 (default 20) and an opaque cursor. */
export function pageQuery(query: Record<string, unknown>): { limit?: number; cursor?: string } {
  const { limit, cursor } = query;
  if (
    limit !== undefined &&
    (typeof limit !== 'string' || !/^[0-9]{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > 100)
  ) {
    throw new BadRequestException('limit must be a whole number from 1 to 100');
  }
  if (cursor !== undefined && (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 512)) {
    throw new BadRequestException('cursor must be the "next" of a previous page');
  }
  return { limit: limit === undefined ? undefined : Number(limit), cursor: cursor as string | undefined };
}
