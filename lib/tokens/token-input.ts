import { createHash, randomBytes } from 'node:crypto';
import { REVOKE_REASONS, type RevokeReason } from '../interfaces/revoke-reason.type.js';

/** 128 random bits, base64url: jtis and session ids. */
export const newId = () => randomBytes(16).toString('base64url');

/** What the log stores of a refresh token: its SHA-256, never the token. */
export const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest('hex');

export function assertSubject(subject: unknown): asserts subject is string {
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > 255) {
    throw new TypeError('subject must be a string of 1 to 255 characters');
  }
}

export function assertReason(reason: unknown): asserts reason is RevokeReason {
  if (!(REVOKE_REASONS as readonly unknown[]).includes(reason)) {
    throw new TypeError(`unknown revoke reason "${String(reason)}" (one of ${REVOKE_REASONS.join(', ')})`);
  }
}

/** Device data as the columns take it: null when absent, cut to the column's length. */
export function clip(value: string | undefined, max: number): string | null {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, max) : null;
}
