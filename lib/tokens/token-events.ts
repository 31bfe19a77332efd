import { Injectable, Logger } from '@nestjs/common';
import type { RevokeReason } from '../interfaces/revoke-reason.type.js';

/** What happened to tokens, for audit logs and user notifications. */
export type TokenEvent =
  | { type: 'issued'; subject: string; sessionId: string; jti: string }
  | { type: 'refreshed'; subject: string; sessionId: string; jti: string; parentJti: string }
  /** Sliding renewal: a new access token in the session; `parentJti` is the token it follows. */
  | { type: 'renewed'; subject: string; sessionId: string; jti: string; parentJti: string }
  | { type: 'revoked'; scope: 'token'; jti: string; reason: RevokeReason }
  | { type: 'revoked'; scope: 'session'; sessionId: string; reason: RevokeReason }
  | { type: 'revoked'; scope: 'subject'; subject: string; reason: RevokeReason }
  | { type: 'reuse_detected'; subject: string; sessionId: string; jti: string };

export type TokenEventListener = (event: TokenEvent) => void | Promise<void>;

/**
 * Inject it and `subscribe()` to hear about issued, refreshed, renewed and revoked
 * tokens and detected refresh-token reuse. Events are emitted after the
 * database write; a listener that throws or rejects is logged and never
 * breaks the call that emitted.
 */
@Injectable()
export class TokenEvents {
  private readonly logger = new Logger('JwtRevocation');
  private readonly listeners = new Set<TokenEventListener>();

  /** Returns the function that unsubscribes. */
  subscribe(listener: TokenEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: TokenEvent): void {
    for (const listener of this.listeners) {
      try {
        const result = listener(event);
        if (result instanceof Promise) result.catch((error: unknown) => this.report(event, error));
      } catch (error) {
        this.report(event, error);
      }
    }
  }

  private report(event: TokenEvent, error: unknown): void {
    this.logger.error(`a "${event.type}" listener failed: ${(error as Error)?.message ?? String(error)}`);
  }
}
