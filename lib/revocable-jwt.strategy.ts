import { HttpException, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-jwt';
import { ACCESS_TOKEN_TYP, JWT_REVOCATION_STRATEGY } from './jwt-revocation.constants.js';
import { InvalidTokenException } from './invalid-token.exception.js';
import { JwtRevocationConfig } from './jwt-revocation.options.js';
import { RevocationState } from './revocation-state.js';
import { SessionActivity } from './session-activity.js';
import { SubjectValidator } from './subject-validator.js';
import { createTokenExtractor } from './token-extractor.js';
import type { VerifiedToken } from './interfaces/verified-token.interface.js';

/** Headers that would tell a verifier to fetch or trust a key from the token itself: never honoured, always refused. */
const KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'];

const isString = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= max;

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value > 0;

/**
 * passport-jwt checks the signature (with the KeyObject, against the one
 * configured algorithm), `exp`, `nbf`, `iss` and `aud`. `validate` then checks
 * what jsonwebtoken lets through, and asks the revocation state, in memory,
 * whether the token is still good.
 */
@Injectable()
export class RevocableJwtStrategy extends PassportStrategy(Strategy, JWT_REVOCATION_STRATEGY) {
  private readonly logger = new Logger('JwtRevocation');

  constructor(
    private readonly config: JwtRevocationConfig,
    private readonly state: RevocationState,
    private readonly subjects: SubjectValidator,
    private readonly activity: SessionActivity,
  ) {
    super({
      jwtFromRequest: createTokenExtractor(config),
      secretOrKey: config.signing.verifyKey,
      // passport-jwt copies these over jsonWebTokenOptions, so they go here and nowhere else.
      algorithms: [config.signing.algorithm],
      issuer: config.issuer,
      audience: config.audience as string | [string, ...string[]] | undefined,
      ignoreExpiration: false,
      // complete: hand validate() the header too, for typ, crit and kid.
      jsonWebTokenOptions: { complete: true, clockTolerance: config.clockTolerance },
    } as never);
  }

  async validate(decoded: unknown): Promise<VerifiedToken> {
    const token = this.checkShape(decoded);
    try {
      let verdict = this.state.verdict(token);
      if (verdict === 'unknown') verdict = (await this.state.isActiveInStore(token.jti)) ? 'active' : 'revoked';
      if (verdict === 'revoked') throw new InvalidTokenException();
      if (!(await this.subjects.isAllowed(token))) throw new InvalidTokenException();
    } catch (error) {
      if (error instanceof HttpException) throw error;
      // The store or the app's hook failed: not the client's fault, and not a reason to let the token through.
      this.logger.error(`token check failed: ${(error as Error).message}`);
      throw new ServiceUnavailableException('Token check unavailable, retry shortly');
    }
    this.activity.touch(token.sid);
    return token;
  }

  /** What a token must look like beyond its signature; anything else is a 401. */
  private checkShape(decoded: unknown): VerifiedToken {
    const { header, payload } = (decoded ?? {}) as { header?: Record<string, unknown>; payload?: unknown };
    if (!header || typeof header.typ !== 'string' || header.crit !== undefined) throw new InvalidTokenException();
    const typ = header.typ.toLowerCase();
    if (typ !== ACCESS_TOKEN_TYP && typ !== `application/${ACCESS_TOKEN_TYP}`) throw new InvalidTokenException();
    if (KEY_HEADERS.some((name) => name in header)) throw new InvalidTokenException();
    const kid = this.config.signing.kid;
    if (header.kid !== undefined && header.kid !== kid) throw new InvalidTokenException();
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new InvalidTokenException();
    const claims = payload as Record<string, unknown>;
    const now = Math.floor(Date.now() / 1000);
    const tolerance = this.config.clockTolerance;
    if (
      !isString(claims.sub, 255) ||
      !isString(claims.jti, 64) ||
      !isString(claims.sid, 64) ||
      typeof claims.ver !== 'number' ||
      !Number.isSafeInteger(claims.ver) ||
      claims.ver < 0 ||
      !isTime(claims.iat) ||
      !isTime(claims.exp) ||
      claims.iat > now + tolerance ||
      claims.exp <= claims.iat ||
      // A lifetime longer than configured was not issued here (and would outlive the revocation state's memory).
      claims.exp - claims.iat > this.config.accessTokenTtl
    ) {
      throw new InvalidTokenException();
    }
    return claims as VerifiedToken;
  }
}
