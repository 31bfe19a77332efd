import { HttpException, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import { InvalidTokenException } from '../errors/invalid-token.exception.js';
import { StaleStateException } from '../errors/stale-state.exception.js';
import type { VerifiedToken } from '../interfaces/verified-token.interface.js';
import { RevocationState } from '../revocation/revocation-state.js';
import { JwtRevocationMetrics, type RefusalCause } from '../telemetry/jwt-revocation.metrics.js';
import { CredentialFingerprint } from '../tokens/credential-fingerprint.js';
import { KeyRing } from '../tokens/key-ring.js';
import { checkAccessToken } from '../tokens/token-claims.js';
import { TokenCodec } from '../tokens/token-codec.js';
import { VerifiedTokenCache } from '../tokens/verified-token-cache.js';
import { MigrationWindow } from './migration-window.js';
import { SessionActivity } from './session-activity.js';
import { SubjectValidator } from './subject-validator.js';
import { createTokenExtractor } from './token-extractor.js';

/**
 * No token, or one that does not verify or breaks a claim rule: passport's
 * "fail" rather than an error, so the next strategy of an `AuthGuard([...])`
 * still gets its turn. The message of a missing token is passport-jwt's.
 */
export class TokenNotAccepted extends Error {
  static readonly missing = 'No auth token';
}

/**
 * "Is this request's token good?", asked by the guard directly and by the
 * module's passport strategy: the one path both take. The signature is
 * checked with node:crypto KeyObjects (TokenCodec), the claims by
 * `checkAccessToken` (the rules introspection uses), then the in-memory
 * revocation state and the app's subject hook. Answers synchronously when
 * nothing needs the database, so the common request allocates no promise.
 */
@Injectable()
export class AccessTokenCheck {
  private readonly logger = new Logger('JwtRevocation');
  private readonly extract: ReturnType<typeof createTokenExtractor>;
  private readonly cache: VerifiedTokenCache;
  private readonly liveKey = (header: Record<string, unknown>) => this.keys.forHeader(header.kid, header.alg);

  constructor(
    private readonly config: JwtRevocationConfig,
    private readonly keys: KeyRing,
    private readonly codec: TokenCodec,
    private readonly state: RevocationState,
    private readonly subjects: SubjectValidator,
    private readonly activity: SessionActivity,
    private readonly migration: MigrationWindow,
    private readonly metrics: JwtRevocationMetrics,
    private readonly fingerprints: CredentialFingerprint,
  ) {
    this.extract = createTokenExtractor(config);
    this.cache = new VerifiedTokenCache(config.verifiedTokenCacheSize);
  }

  /**
   * The request's verified, unrevoked token (a fresh object per request).
   * Throws TokenNotAccepted (a 401 that another strategy may still answer),
   * InvalidTokenException (revoked) or a 503 (state stale or unavailable).
   */
  run(request: unknown): VerifiedToken | Promise<VerifiedToken> {
    const legacy = this.migration.claim(request);
    if (legacy !== null) {
      return this.migration.verify(legacy).then(
        (token) => this.admit(token),
        () => this.refuse('invalid', new TokenNotAccepted('Invalid access token')),
      );
    }
    const raw = this.extract(request as Parameters<typeof this.extract>[0]);
    if (raw === null) return this.refuse('missing', new TokenNotAccepted(TokenNotAccepted.missing));
    return this.admit(this.verify(raw));
  }

  /** Tokens in the verified-token cache: for health pages and tests. */
  get cachedTokens(): number {
    return this.cache.size;
  }

  /** Signature (or a cache hit for this exact text), then the claim rules against the clock, every time. */
  private verify(raw: string): VerifiedToken {
    const now = Math.floor(Date.now() / 1000);
    const cached = this.cache.get(raw, this.liveKey);
    if (cached !== null) {
      try {
        // A copy: the cached payload is frozen and shared; request.user is the app's to extend.
        return { ...checkAccessToken(cached.header, cached.payload, this.config, now) };
      } catch {
        this.cache.delete(raw);
        return this.refuse(this.expired(cached.payload, now) ? 'expired' : 'invalid', this.invalid());
      }
    }
    const signed = this.codec.verifySignature(raw);
    if (signed === null) return this.refuse('invalid', this.invalid());
    let token: VerifiedToken;
    try {
      token = checkAccessToken(signed.header, signed.payload, this.config, now);
    } catch {
      return this.refuse(this.expired(signed.payload, now) ? 'expired' : 'invalid', this.invalid());
    }
    this.cache.set(raw, signed.key, signed);
    return { ...token };
  }

  /** The checks after the signature and claims: revoked, then the app's subject hook. */
  private admit(token: VerifiedToken): VerifiedToken | Promise<VerifiedToken> {
    let verdict: ReturnType<RevocationState['verdict']>;
    try {
      verdict = this.state.verdict(token);
    } catch (error) {
      return this.unavailable(error);
    }
    if (verdict === 'stale') return this.refuse('stale', new StaleStateException());
    if (verdict === 'revoked') return this.refuse('revoked', new InvalidTokenException());
    if (verdict === 'unknown' || this.subjects.enabled || this.fingerprints.enabled)
      return this.admitSlowly(token, verdict === 'unknown');
    return this.accepted(token);
  }

  /** Allowlist look-ups, the subject hook and the credential fingerprint: the only awaits on the request path. */
  private async admitSlowly(token: VerifiedToken, unknown: boolean): Promise<VerifiedToken> {
    try {
      if (unknown && !(await this.state.isActiveInStore(token.jti)))
        return this.refuse('revoked', new InvalidTokenException());
      if (this.subjects.enabled && !(await this.subjects.isAllowed(token)))
        return this.refuse('revoked', new InvalidTokenException());
      // The app's old tokens carry no fingerprint: the migration window's own rules judge them.
      if (this.fingerprints.enabled && !token.legacy && !(await this.fingerprints.matches(token)))
        return this.refuse('revoked', new InvalidTokenException());
    } catch (error) {
      return this.unavailable(error);
    }
    return this.accepted(token);
  }

  private accepted(token: VerifiedToken): VerifiedToken {
    // An old token has no session row to note "last seen" on.
    if (!token.legacy) this.activity.touch(token.sid);
    return token;
  }

  private unavailable(error: unknown): never {
    // Refused above, and counted there.
    if (error instanceof InvalidTokenException) throw error;
    if (error instanceof HttpException)
      return this.refuse(error instanceof StaleStateException ? 'stale' : 'unavailable', error);
    // The store or the app's hook failed: not the client's fault, and not a reason to let the token through.
    this.logger.error(`token check failed: ${(error as Error).message}`);
    return this.refuse('unavailable', new ServiceUnavailableException('Token check unavailable, retry shortly'));
  }

  /** Counts the refusal by its cause, then throws its error: the one place a refusal leaves this class. */
  private refuse(cause: RefusalCause, error: Error): never {
    this.metrics.refused(cause);
    throw error;
  }

  private invalid(): TokenNotAccepted {
    return new TokenNotAccepted('Invalid access token');
  }

  /** Past its exp (with the clock tolerance): the refusal's cause is expiry, whatever else is wrong with it. */
  private expired(payload: unknown, now: number): boolean {
    const exp = (payload as { exp?: unknown } | null)?.exp;
    return typeof exp === 'number' && now >= exp + this.config.clockTolerance;
  }
}
