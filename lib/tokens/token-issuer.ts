import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import { CredentialsChangedException } from '../errors/credentials-changed.exception.js';
import type { IssueContext, IssuedTokens } from '../interfaces/issued-tokens.interface.js';
import type { SessionRecord, TokenRecord } from '../interfaces/token-record.interface.js';
import { RevocationState } from '../revocation/revocation-state.js';
import { TokenRevoker } from '../revocation/token-revoker.js';
import { stored } from '../storage/stored.js';
import { TokenStore } from '../storage/token-store.interface.js';
import { CredentialFingerprint, FINGERPRINT_CLAIM } from './credential-fingerprint.js';
import { SessionLifetime } from './session-lifetime.js';
import { TokenCodec } from './token-codec.js';
import { Telemetry } from '../telemetry/telemetry.js';
import { TokenEvents } from './token-events.js';
import { assertSubject, clip, hashRefreshToken, newId } from './token-input.js';

/** Claims the module sets itself (`legacy`: only on the app's old tokens); `issue()` refuses custom claims by these names. */
const RESERVED_CLAIMS = new Set([
  'sub',
  'jti',
  'sid',
  'ver',
  'iat',
  'exp',
  'nbf',
  'iss',
  'aud',
  'legacy',
  FINGERPRINT_CLAIM,
]);
const MAX_CLAIMS_JSON = 4096;

/** A token row before the store stamps the subject's version on it. */
export type NewTokenRow = Omit<TokenRecord, 'subjectVersion'>;

/**
 * New sessions, and the rows and signed tokens every pair is made of (a
 * refresh builds its pair here too). A row is written before its token is
 * handed out.
 */
@Injectable()
export class TokenIssuer {
  constructor(
    private readonly config: JwtRevocationConfig,
    private readonly store: TokenStore,
    private readonly state: RevocationState,
    private readonly codec: TokenCodec,
    private readonly events: TokenEvents,
    private readonly revoker: TokenRevoker,
    private readonly lifetime: SessionLifetime,
    private readonly telemetry: Telemetry,
    private readonly fingerprints: CredentialFingerprint,
  ) {}

  /** See `TokenLogService.issue()`. */
  issue(subject: string, claims: Record<string, unknown>, context: IssueContext): Promise<IssuedTokens> {
    return this.telemetry.inSpan('jwt_revocation.issue', {}, () => this.login(subject, claims, context));
  }

  private async login(subject: string, claims: Record<string, unknown>, context: IssueContext): Promise<IssuedTokens> {
    assertSubject(subject);
    if (context.epoch !== undefined && !Number.isSafeInteger(context.epoch))
      throw new TypeError('context.epoch must be a number from subjectEpoch()');
    let custom = this.customClaims(claims);
    if (this.fingerprints.enabled) {
      const fingerprint = await this.fingerprints.current(subject);
      // The app no longer knows the subject (deleted since it checked the credentials): no session.
      if (fingerprint === null) throw new CredentialsChangedException();
      // A session claim: the refresh row keeps it, so every token of the session carries it.
      custom = { ...custom, [FINGERPRINT_CLAIM]: fingerprint.stamp };
    }
    const now = Date.now();
    const sessionId = newId();
    const end = this.lifetime.end(now);
    const access = this.accessRow(subject, sessionId, now, custom, context, null, end);
    const refreshToken = randomBytes(32).toString('base64url');
    const refresh = {
      ...this.refreshRow(subject, sessionId, now, custom, context, null, end),
      tokenHash: hashRefreshToken(refreshToken),
    };
    const session: SessionRecord = {
      sessionId,
      subject,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: refresh.expiresAt,
      revokedAt: null,
      revokeReason: null,
      userAgent: access.userAgent,
      ip: access.ip,
    };
    const created = await stored(
      this.store.createSession({
        session,
        tokens: [access, refresh],
        epoch: context.epoch ?? null,
        maxSessions: this.config.maxSessionsPerSubject,
      }),
    );
    if (!created.created) throw new CredentialsChangedException();
    for (const event of created.evicted) this.revoker.sessionRevoked(event, 'session_limit');
    this.events.emit({ type: 'issued', subject, sessionId, jti: access.jti });
    return this.handOut(access, created.subjectVersion, refreshToken, refresh.expiresAt);
  }

  /** An access token's row: whole seconds, as in the token's exp claim, and never past the session's end. */
  accessRow(
    subject: string,
    sessionId: string,
    now: number,
    claims: Record<string, unknown> | null,
    context: IssueContext,
    parentJti: string | null,
    end: number,
  ): NewTokenRow {
    const issuedAt = Math.floor(now / 1000) * 1000;
    const expiresAt = Math.min(issuedAt + this.config.accessTokenTtl * 1000, Math.floor(end / 1000) * 1000);
    return {
      jti: newId(),
      subject,
      tokenType: 'access',
      sessionId,
      issuedAt,
      expiresAt,
      revokedAt: null,
      revokeReason: null,
      userAgent: clip(context.userAgent, 512),
      ip: clip(context.ip, 64),
      claims: claims && Object.keys(claims).length > 0 ? claims : null,
      tokenHash: null,
      parentJti,
      spentAt: null,
    };
  }

  /** A refresh token's row; it keeps the session's custom claims, so refreshed access tokens carry them too. */
  refreshRow(
    subject: string,
    sessionId: string,
    now: number,
    claims: Record<string, unknown> | null,
    context: IssueContext,
    parentJti: string | null,
    end: number,
  ): NewTokenRow {
    return {
      jti: newId(),
      subject,
      tokenType: 'refresh',
      sessionId,
      issuedAt: now,
      expiresAt: Math.min(now + this.config.refreshTokenTtl * 1000, end),
      revokedAt: null,
      revokeReason: null,
      userAgent: clip(context.userAgent, 512),
      ip: clip(context.ip, 64),
      claims,
      tokenHash: null,
      parentJti,
      spentAt: null,
    };
  }

  /** Signs the access token whose row is already written, and returns the pair. */
  handOut(access: NewTokenRow, version: number, refreshToken: string, refreshExpiresAt: number): IssuedTokens {
    return {
      ...this.signAccess(access, version),
      refreshToken,
      refreshExpiresIn: Math.max(0, Math.floor((refreshExpiresAt - Date.now()) / 1000)),
    };
  }

  /** Signs the access token whose row is already written: its claims are the row's (and the same again for the same row). */
  signAccess(
    access: NewTokenRow,
    version: number,
  ): Pick<IssuedTokens, 'accessToken' | 'expiresIn' | 'sessionId' | 'jti'> {
    const iat = access.issuedAt / 1000;
    const exp = access.expiresAt / 1000;
    const payload: Record<string, unknown> = {
      ...access.claims,
      sub: access.subject,
      jti: access.jti,
      sid: access.sessionId,
      ver: version,
      iat,
      exp,
    };
    if (this.config.issuer !== undefined) payload.iss = this.config.issuer;
    if (this.config.audience !== undefined) payload.aud = this.config.audience;
    this.state.tokenIssued(access.jti, exp);
    return {
      accessToken: this.codec.sign(payload),
      expiresIn: exp - iat,
      sessionId: access.sessionId,
      jti: access.jti,
    };
  }

  private customClaims(claims: Record<string, unknown>): Record<string, unknown> | null {
    if (claims === null || typeof claims !== 'object' || Array.isArray(claims))
      throw new TypeError('claims must be a plain object');
    const keys = Object.keys(claims);
    if (keys.length === 0) return null;
    for (const key of keys) if (RESERVED_CLAIMS.has(key)) throw new TypeError(`claim "${key}" is set by the module`);
    if (JSON.stringify(claims).length > MAX_CLAIMS_JSON)
      throw new TypeError(`claims exceed ${MAX_CLAIMS_JSON} bytes of JSON`);
    return claims;
  }
}
