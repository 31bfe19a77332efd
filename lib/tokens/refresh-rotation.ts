import { Injectable } from '@nestjs/common';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import { InvalidTokenException } from '../errors/invalid-token.exception.js';
import type { IssueContext, IssuedTokens } from '../interfaces/issued-tokens.interface.js';
import type { SessionRecord, TokenRecord } from '../interfaces/token-record.interface.js';
import { SessionActivity } from '../request/session-activity.js';
import { TokenRevoker } from '../revocation/token-revoker.js';
import { stored } from '../storage/stored.js';
import { TokenStore } from '../storage/token-store.interface.js';
import { CredentialFingerprint, FINGERPRINT_CLAIM } from './credential-fingerprint.js';
import { RefreshSuccessor } from './refresh-successor.js';
import { SessionLifetime } from './session-lifetime.js';
import { Telemetry } from '../telemetry/telemetry.js';
import { TokenEvents } from './token-events.js';
import { TokenIssuer, type NewTokenRow } from './token-issuer.js';
import { clip, hashRefreshToken } from './token-input.js';

/**
 * How many successors a racer's spent refresh token may be behind the live
 * end of its chain and still get that end's pair inside the grace window: a
 * page's burst racing two tabs' refreshes is two; more than three within a
 * few seconds is no browser's doing.
 */
const GRACE_CHAIN_LINKS = 3;

/**
 * Refresh-token rotation: a new pair in the same session for a live refresh
 * token, the live end of its chain again for a spent one within the grace
 * window, and the whole session revoked for any other spent token.
 */
@Injectable()
export class RefreshRotation {
  constructor(
    private readonly config: JwtRevocationConfig,
    private readonly store: TokenStore,
    private readonly issuer: TokenIssuer,
    private readonly successor: RefreshSuccessor,
    private readonly lifetime: SessionLifetime,
    private readonly activity: SessionActivity,
    private readonly revoker: TokenRevoker,
    private readonly events: TokenEvents,
    private readonly telemetry: Telemetry,
    private readonly fingerprints: CredentialFingerprint,
  ) {}

  /** See `TokenLogService.refresh()`. */
  refresh(refreshToken: string, context: IssueContext): Promise<IssuedTokens> {
    return this.telemetry.inSpan('jwt_revocation.refresh', {}, () => this.rotate(refreshToken, context));
  }

  private async rotate(refreshToken: string, context: IssueContext): Promise<IssuedTokens> {
    if (typeof refreshToken !== 'string' || refreshToken.length === 0 || refreshToken.length > 256) {
      throw new InvalidTokenException('Invalid refresh token');
    }
    const now = Date.now();
    const { sessionMaxLifetime, sessionIdleTimeout } = this.config;
    let pending: { access: NewTokenRow; refresh: NewTokenRow; token: string } | undefined;
    // The idle timeout counts requests through the guard too: write this instance's last-seen times first.
    if (sessionIdleTimeout !== undefined) await this.activity.flush();
    const stamp = this.fingerprints.enabled
      ? await this.fingerprintFor(hashRefreshToken(refreshToken), context)
      : undefined;
    const result = await stored(
      this.store.rotate({
        tokenHash: hashRefreshToken(refreshToken),
        now,
        createdAfter: sessionMaxLifetime === undefined ? null : now - sessionMaxLifetime * 1000,
        seenAfter: sessionIdleTimeout === undefined ? null : now - sessionIdleTimeout * 1000,
        userAgent: clip(context.userAgent, 512),
        ip: clip(context.ip, 64),
        next: (presented, session) => {
          // The session's absolute end caps both tokens: the grace window and a late refresh never extend it.
          const end = this.lifetime.end(session.createdAt);
          const claims = stamp === undefined ? presented.claims : { ...presented.claims, [FINGERPRINT_CLAIM]: stamp };
          const access = this.issuer.accessRow(
            presented.subject,
            presented.sessionId,
            now,
            claims,
            context,
            presented.jti,
            end,
          );
          const refresh = this.issuer.refreshRow(
            presented.subject,
            presented.sessionId,
            now,
            claims,
            context,
            presented.jti,
            end,
          );
          const token = this.successor.of(refreshToken, presented.jti);
          refresh.tokenHash = hashRefreshToken(token);
          pending = { access, refresh, token };
          return [access, refresh];
        },
      }),
    );
    if (result.outcome === 'rotated' && pending) {
      const { access, refresh, token } = pending;
      this.events.emit({
        type: 'refreshed',
        subject: access.subject,
        sessionId: access.sessionId,
        jti: access.jti,
        parentJti: refresh.parentJti as string,
      });
      return this.issuer.handOut(access, result.subjectVersion, token, refresh.expiresAt);
    }
    if (result.outcome === 'spent')
      return this.replayOrRevoke(refreshToken, result.presented, result.successors, result.session, now, context);
    throw new InvalidTokenException('Invalid refresh token');
  }

  /**
   * The credential fingerprint at a refresh: a live session whose subject's
   * secret changed since its login (or whose subject the app no longer
   * knows) ends here, revoked (`password_change`); otherwise the new pair
   * carries the current fingerprint, which also gives one to a session from
   * before the option was turned on. A token that is unknown, spent or
   * revoked is left to `rotate()`, whose answer (reuse detection included)
   * stays the same.
   */
  private async fingerprintFor(tokenHash: string, context: IssueContext): Promise<string | undefined> {
    const row = await stored(this.store.findRefreshToken(tokenHash));
    if (!row || row.spentAt !== null || row.revokedAt !== null) return undefined;
    const current = await this.fingerprints.current(row.subject);
    const carried = row.claims?.[FINGERPRINT_CLAIM];
    if (current === null || (typeof carried === 'string' && !current.accepted.has(carried))) {
      await this.revoker.revokeSession(row.sessionId, 'password_change', context);
      throw new InvalidTokenException('Invalid refresh token');
    }
    return current.stamp;
  }

  /**
   * A spent refresh token again. Inside the grace window the racer gets the
   * pair at the live end of its chain: the immediately previous token's
   * successor, or, when that one was spent too within the window, the
   * successor of that one, and so on for up to `GRACE_CHAIN_LINKS` links.
   * Racers two generations apart are real in browsers: Chromium queues a
   * burst past six connections per host, and a request built with the old
   * cookie can reach the server after another tab has refreshed twice. The
   * window stays the same (it counts from the presented token's spend); only
   * a token spent longer ago, or a chain that was revoked, is reuse, and
   * then the session dies.
   */
  private async replayOrRevoke(
    refreshToken: string,
    presented: TokenRecord,
    successors: TokenRecord[],
    session: SessionRecord | null,
    now: number,
    context: IssueContext,
  ): Promise<IssuedTokens> {
    const inGrace =
      presented.spentAt !== null &&
      this.config.refreshReuseGrace > 0 &&
      now - presented.spentAt <= this.config.refreshReuseGrace * 1000 &&
      this.lifetime.isLive(session, now);
    const live = inGrace ? await this.liveEnd(refreshToken, presented, successors) : undefined;
    if (live) return live;
    // Theft only if this call is what ended the session: one a logout (or
    // anything else) revoked meanwhile is no alarm.
    if (
      session &&
      session.revokedAt === null &&
      (await this.revoker.revokeSession(presented.sessionId, 'refresh_reuse', context))
    ) {
      this.events.emit({
        type: 'reuse_detected',
        subject: presented.subject,
        sessionId: presented.sessionId,
        jti: presented.jti,
      });
    }
    throw new InvalidTokenException('Invalid refresh token');
  }

  /**
   * The pair at the live end of a spent token's chain, or undefined when a
   * link is missing or revoked, its successor cannot be derived (a retired
   * key), or the chain is longer than `GRACE_CHAIN_LINKS`. Each spent link's
   * successors come from `rotate()` itself, which only reads for a spent
   * token.
   */
  private async liveEnd(
    token: string,
    presented: TokenRecord,
    successors: TokenRecord[],
  ): Promise<IssuedTokens | undefined> {
    for (let link = 1; ; link++) {
      const access = successors.find((t) => t.tokenType === 'access');
      const refresh = successors.find((t) => t.tokenType === 'refresh');
      if (!access || !refresh || access.revokedAt !== null || refresh.revokedAt !== null) return undefined;
      const next = this.successor.find(token, presented.jti, (c) => hashRefreshToken(c) === refresh.tokenHash);
      if (next === undefined) return undefined;
      if (refresh.spentAt === null) return this.issuer.handOut(access, access.subjectVersion, next, refresh.expiresAt);
      if (link === GRACE_CHAIN_LINKS) return undefined;
      const step = await stored(
        this.store.rotate({
          tokenHash: hashRefreshToken(next),
          now: Date.now(),
          createdAfter: null,
          seenAfter: null,
          userAgent: null,
          ip: null,
          next: () => {
            // Unreachable for a spent row (a spend is never undone); throwing rolls back anything a faulty store began.
            throw new Error('a spent refresh token rotated');
          },
        }),
      );
      if (step.outcome !== 'spent') return undefined;
      token = next;
      presented = step.presented;
      successors = step.successors;
    }
  }
}
