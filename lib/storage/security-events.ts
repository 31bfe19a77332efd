import type { RevokeReason } from '../interfaces/revoke-reason.type.js';
import type { SecurityClient } from '../interfaces/security-event.interface.js';
import { clip } from '../tokens/token-input.js';
import type { EventClient, NewSecurityEvent } from './token-store.types.js';

/** A revocation no request caused, or whose caller passed no client. */
export const NO_CLIENT: EventClient = Object.freeze({ ip: null, userAgent: null });

/** The client as the store records it: clipped as session rows clip theirs; anything else is left out. */
export function eventClient(client: SecurityClient | undefined): EventClient {
  return { ip: clip(client?.ip, 64), userAgent: clip(client?.userAgent, 512) };
}

/** The security event of one session revoked. */
export function sessionEvent(
  subject: string,
  sessionId: string,
  reason: RevokeReason,
  at: number,
  client: EventClient,
): NewSecurityEvent {
  return { at, type: 'session_revoked', subject, sessionId, target: null, reason, ...client };
}

/** The security event of one token revoked. */
export function tokenEvent(
  token: { jti: string; subject: string; sessionId: string },
  reason: RevokeReason,
  at: number,
  client: EventClient,
): NewSecurityEvent {
  const { jti, subject, sessionId } = token;
  return { at, type: 'token_revoked', subject, sessionId, target: jti, reason, ...client };
}

/** The security event of every token of a subject revoked. */
export function subjectEvent(subject: string, reason: RevokeReason, at: number, client: EventClient): NewSecurityEvent {
  return { at, type: 'subject_revoked', subject, sessionId: null, target: null, reason, ...client };
}
