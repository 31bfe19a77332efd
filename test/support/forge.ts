import { createHmac } from 'node:crypto';

/** A JWT segment: a string as is, anything else as JSON, in base64url. */
export const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Builds a JWT by hand, signed with HMAC-SHA256 (or unsigned), for hostile-token tests. */
export function forge(header: unknown, payload: unknown, secret: string | Buffer | null, rawPayload = false): string {
  const input = `${b64(header)}.${rawPayload ? Buffer.from(payload as string).toString('base64url') : b64(payload)}`;
  if (secret === null) return `${input}.`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index], 'base64url').toString('utf8'));
}
