import { HttpException, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy } from 'passport-jwt';
import { JWT_REVOCATION_STRATEGY } from '../jwt-revocation.constants.js';
import { InvalidTokenException } from '../errors/invalid-token.exception.js';
import { StaleStateException } from '../errors/stale-state.exception.js';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import { KeyRing } from '../tokens/key-ring.js';
import { RevocationState } from '../revocation/revocation-state.js';
import { MigrationWindow } from './migration-window.js';
import { SessionActivity } from './session-activity.js';
import { SubjectValidator } from './subject-validator.js';
import { checkAccessToken } from '../tokens/token-claims.js';
import { createTokenExtractor, headerOf } from './token-extractor.js';
import type { VerifiedToken } from '../interfaces/verified-token.interface.js';

/**
 * passport-jwt checks the signature (with the KeyObject the token's `kid`
 * names in the key ring, and only with that key's algorithm), `exp`, `nbf`,
 * `iss` and `aud`. `validate` then checks what jsonwebtoken lets through, and
 * asks the revocation state, in memory, whether the token is still good.
 * While a `migration` window is open, a token that is not ours takes the
 * legacy path (`MigrationWindow`) and then the same revocation checks.
 */
@Injectable()
export class RevocableJwtStrategy extends PassportStrategy(Strategy, JWT_REVOCATION_STRATEGY) {
  private readonly logger = new Logger('JwtRevocation');
  /**
   * This module's own passport, not the process-wide one: two apps in one
   * process (tests, several tenants) would otherwise share the strategy of
   * whichever registered last, with its keys and revocation state.
   */
  private passportInstance?: passport.PassportStatic;

  constructor(
    private readonly config: JwtRevocationConfig,
    private readonly state: RevocationState,
    private readonly subjects: SubjectValidator,
    private readonly activity: SessionActivity,
    keys: KeyRing,
    private readonly migration: MigrationWindow,
  ) {
    super({
      jwtFromRequest: createTokenExtractor(config),
      // An unknown or retired kid, or an alg the named key does not use, ends here as a plain 401.
      secretOrKeyProvider: (
        _request: unknown,
        rawToken: string,
        done: (error: Error | null, key?: unknown) => void,
      ) => {
        const header = headerOf(rawToken);
        const key = header ? keys.forHeader(header.kid, header.alg) : undefined;
        if (key) done(null, key.verifyKey);
        else done(new Error('unknown key'));
      },
      // passport-jwt copies these over jsonWebTokenOptions, so they go here and nowhere else.
      algorithms: keys.algorithms,
      issuer: config.issuer,
      audience: config.audience,
      ignoreExpiration: false,
      // complete: hand validate() the header too, for typ, crit and kid.
      jsonWebTokenOptions: { complete: true, clockTolerance: config.clockTolerance },
    } as never);
  }

  /** Called by PassportStrategy's constructor to register this strategy. */
  getPassportInstance(): passport.PassportStatic {
    this.passportInstance ??= new passport.Passport() as passport.PassportStatic;
    return this.passportInstance;
  }

  /**
   * passport calls this on a copy of the strategy that carries success, fail
   * and error; an old token is answered through them, the rest by passport-jwt.
   */
  override authenticate(request: Parameters<Strategy['authenticate']>[0], options?: object): void {
    const legacy = this.migration.claim(request);
    if (legacy === null) return super.authenticate(request, options);
    this.migration
      .verify(legacy)
      .then((token) => this.admit(token))
      .then(
        (token) => this.success(token),
        (error: unknown) => this.error(error as Error),
      );
  }

  async validate(decoded: { header?: unknown; payload?: unknown } | null): Promise<VerifiedToken> {
    return this.admit(checkAccessToken(decoded?.header, decoded?.payload, this.config, Math.floor(Date.now() / 1000)));
  }

  /** The checks after the signature and claims: revoked, then the app's subject hook. */
  private async admit(token: VerifiedToken): Promise<VerifiedToken> {
    try {
      let verdict = this.state.verdict(token);
      if (verdict === 'stale') throw new StaleStateException();
      if (verdict === 'unknown') verdict = (await this.state.isActiveInStore(token.jti)) ? 'active' : 'revoked';
      if (verdict === 'revoked') throw new InvalidTokenException();
      if (this.subjects.enabled && !(await this.subjects.isAllowed(token))) throw new InvalidTokenException();
    } catch (error) {
      if (error instanceof HttpException) throw error;
      // The store or the app's hook failed: not the client's fault, and not a reason to let the token through.
      this.logger.error(`token check failed: ${(error as Error).message}`);
      throw new ServiceUnavailableException('Token check unavailable, retry shortly');
    }
    // An old token has no session row to note "last seen" on.
    if (!token.legacy) this.activity.touch(token.sid);
    return token;
  }
}
