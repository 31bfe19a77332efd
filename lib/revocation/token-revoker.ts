import { Injectable } from '@nestjs/common';
import type { RevocationEvent } from '../interfaces/revocation-event.interface.js';
import type { RevokeReason } from '../interfaces/revoke-reason.type.js';
import type { SecurityClient } from '../interfaces/security-event.interface.js';
import type { VerifiedToken } from '../interfaces/verified-token.interface.js';
import { RevocationSync } from '../propagation/revocation-sync.js';
import { eventClient } from '../storage/security-events.js';
import { stored } from '../storage/stored.js';
import { TokenStore } from '../storage/token-store.interface.js';
import { TokenCodec } from '../tokens/token-codec.js';
import { TokenEvents } from '../tokens/token-events.js';
import { assertReason, assertSubject } from '../tokens/token-input.js';
import { RevocationState } from './revocation-state.js';

/**
 * Every revocation: written to the database first (with its event, in the
 * same transaction), then applied here, published to the other instances,
 * and told to the app. A revocation that changes nothing writes, publishes
 * and tells nothing. Each call takes the client of the request behind it
 * (IP, user agent) for the security events the store records with it.
 */
@Injectable()
export class TokenRevoker {
  constructor(
    private readonly store: TokenStore,
    private readonly state: RevocationState,
    private readonly sync: RevocationSync,
    private readonly events: TokenEvents,
    private readonly codec: TokenCodec,
  ) {}

  /** One token by jti or by the token itself. False when the token is unknown. */
  async revoke(jtiOrToken: string, reason: RevokeReason, client?: SecurityClient): Promise<boolean> {
    assertReason(reason);
    if (typeof jtiOrToken !== 'string') return false;
    // A token is taken at its signature's word only; a bare jti is the app's own.
    const jti = jtiOrToken.includes('.')
      ? (this.codec.verifySignature(jtiOrToken)?.payload as { jti?: unknown } | undefined)?.jti
      : jtiOrToken;
    if (typeof jti !== 'string' || jti.length === 0 || jti.length > 64) return false;
    const revoked = await stored(this.store.revokeToken(jti, reason, Date.now(), eventClient(client)));
    if (!revoked) return false;
    if (revoked.event) this.sync.propagate(revoked.event);
    if (revoked.changed) this.events.emit({ type: 'revoked', scope: 'token', jti: revoked.jti, reason });
    return true;
  }

  /** A session: null when it is unknown, false when it was revoked already (nothing written), true when this call revoked it. */
  async revokeSession(sessionId: string, reason: RevokeReason, client?: SecurityClient): Promise<boolean | null> {
    assertReason(reason);
    if (typeof sessionId !== 'string' || sessionId.length === 0 || sessionId.length > 64) return null;
    const revoked = await stored(this.store.revokeSession(sessionId, reason, Date.now(), eventClient(client)));
    if (!revoked) return null;
    if (revoked.event) this.sessionRevoked(revoked.event, reason);
    return revoked.event !== null;
  }

  /** A session revocation written by this instance (a revoke, an eviction): apply and publish it, then tell the app. */
  sessionRevoked(event: RevocationEvent, reason: RevokeReason): void {
    this.sync.propagate(event);
    this.events.emit({ type: 'revoked', scope: 'session', sessionId: event.key, reason });
  }

  /** Every token of the subject issued before this call; one issued after it works. */
  async revokeAllForSubject(subject: string, reason: RevokeReason, client?: SecurityClient): Promise<void> {
    assertSubject(subject);
    assertReason(reason);
    const { event } = await stored(this.store.revokeSubject(subject, reason, Date.now(), eventClient(client)));
    // Applied here at once (and its cached validateSubject answer dropped), then published.
    this.sync.propagate(event);
    this.events.emit({ type: 'revoked', scope: 'subject', subject, reason });
  }

  /** Every live session of the subject but one; returns how many. */
  async revokeOtherSessions(
    subject: string,
    keepSessionId: string,
    reason: RevokeReason,
    client?: SecurityClient,
  ): Promise<number> {
    assertSubject(subject);
    assertReason(reason);
    const revoked = await stored(
      this.store.revokeOtherSessions(subject, keepSessionId, reason, Date.now(), eventClient(client)),
    );
    for (const event of revoked) this.sessionRevoked(event, reason);
    return revoked.length;
  }

  /**
   * The presented token's session (`'session'`) or every token of its
   * subject (`'all'`), and the presented token in any case, also one whose
   * session the log does not know (signed elsewhere with a key of the ring):
   * its session is written as revoked.
   */
  async logout(token: VerifiedToken, scope: 'session' | 'all', client?: SecurityClient): Promise<void> {
    const reason = scope === 'all' ? 'logout_all' : 'logout';
    if (scope === 'all') await this.revokeAllForSubject(token.sub, reason, client);
    else await this.revokeSession(token.sid, reason, client);
    if (this.state.verdict(token) === 'revoked') return;
    const presented = {
      subject: token.sub,
      sessionId: token.sid,
      jti: token.jti,
      issuedAt: token.iat * 1000,
      expiresAt: token.exp * 1000,
    };
    const event = await stored(this.store.revokePresented(presented, reason, Date.now(), eventClient(client)));
    if (event) this.sessionRevoked(event, reason);
    // Applied just now, unless this instance already had it: either way the token is dead here.
    if (this.state.verdict(token) !== 'revoked') this.state.sessionRevoked(token.sid);
  }
}
