import { Injectable } from '@nestjs/common';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import type { IntrospectionResponse } from '../interfaces/issued-tokens.interface.js';
import type { VerifiedToken } from '../interfaces/verified-token.interface.js';
import { RevocationState } from '../revocation/revocation-state.js';
import { stored } from '../storage/stored.js';
import { TokenStore } from '../storage/token-store.interface.js';
import { CredentialFingerprint, FINGERPRINT_CLAIM } from '../tokens/credential-fingerprint.js';
import { SessionLifetime } from '../tokens/session-lifetime.js';
import { checkAccessToken } from '../tokens/token-claims.js';
import { TokenCodec } from '../tokens/token-codec.js';
import { PresentedTokens } from './presented-tokens.js';

/** RFC 7662 token introspection: what the guard (or a refresh) would say of a token, in the RFC's fields. */
@Injectable()
export class TokenIntrospection {
  constructor(
    private readonly config: JwtRevocationConfig,
    private readonly store: TokenStore,
    private readonly state: RevocationState,
    private readonly codec: TokenCodec,
    private readonly presented: PresentedTokens,
    private readonly lifetime: SessionLifetime,
    private readonly fingerprints: CredentialFingerprint,
  ) {}

  /** See `TokenLogService.introspect()`. */
  async introspect(token: unknown, hint?: unknown): Promise<IntrospectionResponse> {
    if (typeof token !== 'string' || token.length === 0 || token.length > this.config.maxTokenLength)
      return { active: false };
    const refreshFirst = hint === 'refresh_token';
    for (const kind of refreshFirst ? ['refresh', 'access'] : ['access', 'refresh']) {
      const answer = kind === 'refresh' ? await this.refreshToken(token) : await this.accessToken(token);
      if (answer) return answer;
    }
    return { active: false };
  }

  private async accessToken(token: string): Promise<IntrospectionResponse | null> {
    const decoded = this.codec.verifySignature(token);
    if (!decoded) return null;
    let claims: VerifiedToken;
    try {
      // The guard's claim rules, expiry and audience included: one set of rules for both.
      claims = checkAccessToken(decoded.header, decoded.payload, this.config, Math.floor(Date.now() / 1000));
    } catch {
      return null;
    }
    if (await this.state.isRevoked(claims)) return null;
    // The guard's fingerprint check too: a token it would refuse is not active.
    if (this.fingerprints.enabled && !claims.legacy && !(await this.fingerprints.matches(claims))) return null;
    return {
      active: true,
      token_type: 'access_token',
      sub: claims.sub,
      jti: claims.jti,
      sid: claims.sid,
      iat: claims.iat,
      exp: claims.exp,
      ...(claims.iss !== undefined ? { iss: claims.iss } : {}),
      ...(claims.aud !== undefined ? { aud: claims.aud } : {}),
    };
  }

  private async refreshToken(token: string): Promise<IntrospectionResponse | null> {
    const row = await this.presented.refreshRow(token);
    if (!row || row.revokedAt !== null || row.spentAt !== null || row.expiresAt <= Date.now()) return null;
    const session = await stored(this.store.findSession(row.sessionId));
    if (!this.lifetime.isLive(session, Date.now())) return null;
    if (this.fingerprints.enabled && !(await this.refreshFingerprintHolds(row.subject, row.claims))) return null;
    // No jti: a refresh token's row id is part of its successor's derivation and stays server-side.
    return {
      active: true,
      token_type: 'refresh_token',
      sub: row.subject,
      sid: row.sessionId,
      iat: Math.floor(row.issuedAt / 1000),
      exp: Math.floor(row.expiresAt / 1000),
    };
  }

  /** As `refresh()` would judge it: a fingerprint of an older secret (or none for a subject gone) fails. */
  private async refreshFingerprintHolds(subject: string, claims: Record<string, unknown> | null): Promise<boolean> {
    const current = await this.fingerprints.current(subject);
    const carried = claims?.[FINGERPRINT_CLAIM];
    return current !== null && (typeof carried !== 'string' || current.accepted.has(carried));
  }
}
