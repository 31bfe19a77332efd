import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { InvalidTokenException } from './invalid-token.exception.js';
import { JwtRevocationConfig } from './jwt-revocation.options.js';
import { RevocationState } from './revocation-state.js';
import { SessionActivity } from './session-activity.js';
import { SubjectValidator } from './subject-validator.js';
import { TokenSigner } from './token-signer.js';
import type { IssueContext, IssuedTokens } from './interfaces/issued-tokens.interface.js';
import { REVOKE_REASONS, type RevokeReason } from './interfaces/revoke-reason.type.js';
import type { SessionInfo, SessionRecord, TokenRecord } from './interfaces/token-record.interface.js';
import { TokenStore } from './interfaces/token-store.interface.js';
import type { VerifiedToken } from './interfaces/verified-token.interface.js';

/** Claims the module sets itself; `issue()` refuses custom claims by these names. */
const RESERVED_CLAIMS = new Set(['sub', 'jti', 'sid', 'ver', 'iat', 'exp', 'nbf', 'iss', 'aud']);
const MAX_CLAIMS_JSON = 4096;

const newId = () => randomBytes(16).toString('base64url');
const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest('hex');

function assertSubject(subject: unknown): asserts subject is string {
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > 255) {
    throw new TypeError('subject must be a string of 1 to 255 characters');
  }
}

function assertReason(reason: unknown): asserts reason is RevokeReason {
  if (!(REVOKE_REASONS as readonly unknown[]).includes(reason)) {
    throw new TypeError(`unknown revoke reason "${String(reason)}" (one of ${REVOKE_REASONS.join(', ')})`);
  }
}

function clip(value: string | undefined, max: number): string | null {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, max) : null;
}

/** A jti (22 url-safe characters) or a JWT whose payload names one. Only the jti is used: it is random, so a forged token cannot name someone else's. */
function jtiOf(jtiOrToken: string): string | null {
  if (!jtiOrToken.includes('.')) return jtiOrToken;
  const parts = jtiOrToken.split('.');
  if (parts.length !== 3) return null;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    const jti = (payload as { jti?: unknown } | null)?.jti;
    return typeof jti === 'string' ? jti : null;
  } catch {
    return null;
  }
}

/**
 * The app's handle on tokens: issue, refresh, revoke, look up. Every write
 * reaches the database before the call returns; the in-memory revocation
 * state is updated right after, so the next request on this instance already
 * sees it.
 */
@Injectable()
export class TokenLogService {
  constructor(
    private readonly config: JwtRevocationConfig,
    private readonly store: TokenStore,
    private readonly state: RevocationState,
    private readonly signer: TokenSigner,
    private readonly subjects: SubjectValidator,
    private readonly activity: SessionActivity,
  ) {}

  /**
   * Starts a session: signs an access token, creates a refresh token, and
   * writes both to the token log before returning them.
   */
  async issue(subject: string, claims: Record<string, unknown> = {}, context: IssueContext = {}): Promise<IssuedTokens> {
    assertSubject(subject);
    const custom = this.customClaims(claims);
    const now = Date.now();
    const sessionId = newId();
    const access = this.accessRow(subject, sessionId, now, custom, context);
    const refresh = this.refreshRow(subject, sessionId, now, custom, context, null);
    const session: SessionRecord = {
      sessionId,
      subject,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: refresh.row.expiresAt,
      revokedAt: null,
      revokeReason: null,
      userAgent: access.userAgent,
      ip: access.ip,
    };
    const version = await this.store.createSession({ session, tokens: [access, refresh.row] });
    return this.handOut(access, version, refresh.token);
  }

  /**
   * Exchanges a refresh token for a new pair in the same session; the old one
   * is spent. A spent token presented again after `refreshReuseGrace` seconds
   * is taken as stolen: the whole session is revoked. Throws a 401 otherwise.
   */
  async refresh(refreshToken: string, context: IssueContext = {}): Promise<IssuedTokens> {
    if (typeof refreshToken !== 'string' || refreshToken.length === 0 || refreshToken.length > 256) {
      throw new InvalidTokenException('Invalid refresh token');
    }
    const now = Date.now();
    let pending: { access: Omit<TokenRecord, 'subjectVersion'>; token: string } | undefined;
    const result = await this.store.rotate({
      tokenHash: hashRefreshToken(refreshToken),
      now,
      userAgent: clip(context.userAgent, 512),
      ip: clip(context.ip, 64),
      next: (presented) => {
        const access = this.accessRow(presented.subject, presented.sessionId, now, presented.claims, context);
        const refresh = this.refreshRow(presented.subject, presented.sessionId, now, presented.claims, context, presented.jti);
        pending = { access, token: refresh.token };
        return [access, refresh.row];
      },
    });
    if (result.outcome === 'reused' && now - result.spentAt > this.config.refreshReuseGrace * 1000) {
      await this.revokeSession(result.sessionId, 'refresh_reuse');
    }
    if (result.outcome !== 'rotated' || !pending) throw new InvalidTokenException('Invalid refresh token');
    return this.handOut(pending.access, result.subjectVersion, pending.token);
  }

  /** Revokes one token by jti or by the token itself. Idempotent; false when the token is unknown. */
  async revoke(jtiOrToken: string, reason: RevokeReason = 'logout'): Promise<boolean> {
    assertReason(reason);
    const jti = typeof jtiOrToken === 'string' ? jtiOf(jtiOrToken) : null;
    if (!jti || jti.length > 64) return false;
    const revoked = await this.store.revokeToken(jti, reason, Date.now());
    if (!revoked) return false;
    if (revoked.tokenType === 'access') this.state.tokenRevoked(revoked.jti, revoked.expiresAt / 1000);
    return true;
  }

  /** Revokes a session: its access and refresh tokens. Idempotent; false when the session is unknown. */
  async revokeSession(sessionId: string, reason: RevokeReason = 'session_revoked'): Promise<boolean> {
    assertReason(reason);
    if (typeof sessionId !== 'string' || sessionId.length === 0 || sessionId.length > 64) return false;
    const session = await this.store.revokeSession(sessionId, reason, Date.now());
    if (!session) return false;
    this.state.sessionRevoked(sessionId, Math.floor((session.revokedAt ?? Date.now()) / 1000));
    return true;
  }

  /** Every token of the subject issued before this call is dead; one issued after it works. Idempotent. */
  async revokeAllForSubject(subject: string, reason: RevokeReason = 'logout_all'): Promise<void> {
    assertSubject(subject);
    assertReason(reason);
    const now = Date.now();
    const version = await this.store.revokeSubject(subject, reason, now);
    this.state.subjectRevoked(subject, version, Math.floor(now / 1000));
    this.subjects.forget(subject);
  }

  /** Revokes every live session of the subject except one (say, after a password change). Returns how many. */
  async revokeOtherSessions(subject: string, keepSessionId: string, reason: RevokeReason = 'password_change'): Promise<number> {
    assertSubject(subject);
    assertReason(reason);
    const now = Date.now();
    const ids = await this.store.revokeOtherSessions(subject, keepSessionId, reason, now);
    for (const id of ids) this.state.sessionRevoked(id, Math.floor(now / 1000));
    return ids.length;
  }

  /** Live sessions of a subject, most recently seen first. */
  async listSessions(subject: string): Promise<SessionInfo[]> {
    assertSubject(subject);
    const sessions = await this.store.listActiveSessions(subject, Date.now());
    return sessions
      .map((s) => ({
        id: s.sessionId,
        createdAt: new Date(s.createdAt),
        lastSeenAt: new Date(Math.max(s.lastSeenAt, this.activity.lastSeen(s.sessionId) ?? 0)),
        expiresAt: new Date(s.expiresAt),
        userAgent: s.userAgent,
        ip: s.ip,
      }))
      .sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime());
  }

  findToken(jti: string): Promise<TokenRecord | null> {
    return this.store.findToken(jti);
  }

  findSession(sessionId: string): Promise<SessionRecord | null> {
    return this.store.findSession(sessionId);
  }

  /** True when verified claims belong to a revoked token, session or subject (or, in allowlist mode, an inactive jti). */
  async isRevoked(claims: VerifiedToken): Promise<boolean> {
    const verdict = this.state.verdict(claims);
    if (verdict === 'unknown') return !(await this.state.isActiveInStore(claims.jti));
    return verdict === 'revoked';
  }

  private customClaims(claims: Record<string, unknown>): Record<string, unknown> | null {
    if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw new TypeError('claims must be a plain object');
    const keys = Object.keys(claims);
    if (keys.length === 0) return null;
    for (const key of keys) if (RESERVED_CLAIMS.has(key)) throw new TypeError(`claim "${key}" is set by the module`);
    if (JSON.stringify(claims).length > MAX_CLAIMS_JSON) throw new TypeError(`claims exceed ${MAX_CLAIMS_JSON} bytes of JSON`);
    return claims;
  }

  private accessRow(
    subject: string,
    sessionId: string,
    now: number,
    claims: Record<string, unknown> | null,
    context: IssueContext,
  ): Omit<TokenRecord, 'subjectVersion'> {
    const issuedAt = Math.floor(now / 1000) * 1000;
    return {
      jti: newId(),
      subject,
      tokenType: 'access',
      sessionId,
      issuedAt,
      expiresAt: issuedAt + this.config.accessTokenTtl * 1000,
      revokedAt: null,
      revokeReason: null,
      userAgent: clip(context.userAgent, 512),
      ip: clip(context.ip, 64),
      claims: claims && Object.keys(claims).length > 0 ? claims : null,
      tokenHash: null,
      parentJti: null,
      spentAt: null,
    };
  }

  /** The refresh row keeps the session's custom claims, so refreshed access tokens carry them too. */
  private refreshRow(
    subject: string,
    sessionId: string,
    now: number,
    claims: Record<string, unknown> | null,
    context: IssueContext,
    parentJti: string | null,
  ) {
    const token = randomBytes(32).toString('base64url');
    const row: Omit<TokenRecord, 'subjectVersion'> = {
      jti: newId(),
      subject,
      tokenType: 'refresh',
      sessionId,
      issuedAt: now,
      expiresAt: now + this.config.refreshTokenTtl * 1000,
      revokedAt: null,
      revokeReason: null,
      userAgent: clip(context.userAgent, 512),
      ip: clip(context.ip, 64),
      claims,
      tokenHash: hashRefreshToken(token),
      parentJti,
      spentAt: null,
    };
    return { token, row };
  }

  /** Signs the access token whose row is already written, and returns the pair. */
  private handOut(access: Omit<TokenRecord, 'subjectVersion'>, version: number, refreshToken: string): IssuedTokens {
    const iat = access.issuedAt / 1000;
    const exp = access.expiresAt / 1000;
    const payload: Record<string, unknown> = {
      ...(access.claims ?? {}),
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
      accessToken: this.signer.sign(payload),
      expiresIn: this.config.accessTokenTtl,
      refreshToken,
      refreshExpiresIn: this.config.refreshTokenTtl,
      sessionId: access.sessionId,
      jti: access.jti,
    };
  }
}
