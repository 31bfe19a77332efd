import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import type { ResolvedRenewal } from '../config/renewal-options.js';
import { fail } from '../errors/jwt-revocation-options.error.js';
import type { VerifiedToken } from '../interfaces/verified-token.interface.js';
import { withStoreTimeout } from '../storage/store-timeout.js';
import { TokenStore, type RenewalResult } from '../storage/token-store.interface.js';
import { implementsOwn } from '../telemetry/instrumented-store.js';
import { Telemetry } from '../telemetry/telemetry.js';
import { SessionLifetime } from './session-lifetime.js';
import { TokenEvents } from './token-events.js';
import { TokenIssuer } from './token-issuer.js';
import { clip } from './token-input.js';

/** A renewed access token, as the guard hands it out. */
export interface RenewedAccess {
  accessToken: string;
  /** Seconds until its `exp`, from now: the access cookie's Max-Age. */
  expiresIn: number;
  jti: string;
}

/** Refused tokens remembered at most; past it the oldest is forgotten (and asked about again, once). */
const MAX_DECLINED = 10_000;

/**
 * Sliding renewal (the `slidingRenewal` option): a new access token in the
 * session of one close to its `exp`, asked for by the guard. One renewal per
 * session at a time on an instance (the racers of a page that fans out share
 * it), and one per threshold window across instances (the store answers a
 * racer with the token already written). A failure costs nothing but the
 * renewal: the request goes on with the token it has, and the next one asks
 * again.
 */
@Injectable()
export class AccessRenewal implements OnModuleInit {
  private readonly logger = new Logger('JwtRevocation');
  private readonly renewal?: ResolvedRenewal;
  /** Renewals under way, by session id. */
  private readonly inFlight = new Map<string, Promise<RenewedAccess | null>>();
  /**
   * Tokens the store refused to renew, until their `exp` (epoch seconds): in
   * a session's last minutes a new token would gain nothing, and every
   * request of those minutes would otherwise ask the database again.
   */
  private readonly declined = new Map<string, number>();

  constructor(
    private readonly config: JwtRevocationConfig,
    private readonly store: TokenStore,
    private readonly issuer: TokenIssuer,
    private readonly lifetime: SessionLifetime,
    private readonly events: TokenEvents,
    private readonly telemetry: Telemetry,
  ) {
    this.renewal = config.slidingRenewal;
  }

  onModuleInit(): void {
    // The default method refuses every renewal: an app must not believe it has sliding sessions when it has none.
    if (this.renewal !== undefined && !implementsOwn(this.store, 'renewAccess'))
      fail(
        `option "slidingRenewal" needs a store that implements renewAccess(); ${this.store.constructor.name} does not`,
      );
  }

  /** The response header for a renewed token that does not go into the access cookie. */
  get header(): string | undefined {
    return this.renewal?.header;
  }

  /** Whether the token should be renewed now: renewal on, within the threshold of its `exp`, one of the log's. */
  isDue(token: VerifiedToken, nowMs = Date.now()): boolean {
    if (this.renewal === undefined || token.legacy === true) return false;
    const now = nowMs / 1000;
    if (token.exp - now > this.renewal.threshold) return false;
    const until = this.declined.get(token.jti);
    if (until === undefined) return true;
    if (until > now) return false;
    this.declined.delete(token.jti);
    return true;
  }

  /** A new access token in the token's session, or null (refused, or the store failed: logged). */
  renew(token: VerifiedToken, client: { userAgent?: string; ip?: string }): Promise<RenewedAccess | null> {
    let pending = this.inFlight.get(token.sid);
    if (pending === undefined) {
      pending = this.telemetry
        .inSpan('jwt_revocation.renewal', {}, () => this.renewNow(token, client))
        .finally(() => this.inFlight.delete(token.sid));
      this.inFlight.set(token.sid, pending);
    }
    return pending;
  }

  private async renewNow(
    token: VerifiedToken,
    client: { userAgent?: string; ip?: string },
  ): Promise<RenewedAccess | null> {
    const now = Date.now();
    const threshold = (this.renewal as ResolvedRenewal).threshold;
    let result: RenewalResult;
    try {
      result = await withStoreTimeout(
        this.store.renewAccess({
          jti: token.jti,
          sessionId: token.sid,
          now,
          dueAfter: now + threshold * 1000,
          userAgent: clip(client.userAgent, 512),
          ip: clip(client.ip, 64),
          next: (presented, session) => {
            const row = this.issuer.accessRow(
              presented.subject,
              presented.sessionId,
              now,
              presented.claims,
              client,
              presented.jti,
              // Capped at the session's absolute end, as every token of the session is.
              this.lifetime.end(session.createdAt),
            );
            // Near the end that cap leaves nothing to gain: no row, and the token runs out.
            return row.expiresAt > presented.expiresAt ? row : null;
          },
        }),
        this.config.storeTimeout,
        'sliding renewal',
      );
    } catch (error) {
      this.logger.warn(`could not renew an access token: ${(error as Error)?.message ?? String(error)}`);
      return null;
    }
    if (result.outcome === 'refused') {
      this.decline(token.jti, token.exp);
      return null;
    }
    const row = result.token;
    if (result.written)
      this.events.emit({
        type: 'renewed',
        subject: row.subject,
        sessionId: row.sessionId,
        jti: row.jti,
        parentJti: token.jti,
      });
    const { accessToken } = this.issuer.signAccess(row, row.subjectVersion);
    return { accessToken, expiresIn: Math.max(1, Math.floor((row.expiresAt - now) / 1000)), jti: row.jti };
  }

  private decline(jti: string, exp: number): void {
    if (this.declined.size >= MAX_DECLINED) this.declined.delete(this.declined.keys().next().value as string);
    this.declined.set(jti, exp);
  }
}
