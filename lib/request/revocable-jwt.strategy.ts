import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-jwt';
import { JWT_REVOCATION_STRATEGY } from '../jwt-revocation.constants.js';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import type { VerifiedToken } from '../interfaces/verified-token.interface.js';
import { AccessTokenCheck, TokenNotAccepted } from './access-token-check.js';
import { SessionCookies } from './session-cookies.js';
import { createTokenExtractor } from './token-extractor.js';

/**
 * The module's passport strategy, named 'jwt-revocation', for apps that
 * compose it with others (`AuthGuard(['jwt-revocation', 'api-key'])`). It is
 * a passport-jwt strategy by type and name, but `authenticate` answers with
 * `AccessTokenCheck`, the path `RevocableJwtGuard` takes: node:crypto
 * KeyObjects (so EdDSA too, which jsonwebtoken 9 lacks), the same claim rules
 * and the revocation state. No token, or one that does not verify, is a
 * passport "fail" (the next strategy gets its turn); a revoked token or an
 * unavailable state is an "error" (the chain stops).
 *
 * It registers on the process-wide passport, where `AuthGuard` looks, so in
 * a process with two such modules the last one registered answers
 * `AuthGuard('jwt-revocation')`. `RevocableJwtGuard` does not go through
 * passport and always asks its own module.
 */
@Injectable()
export class RevocableJwtStrategy extends PassportStrategy(Strategy, JWT_REVOCATION_STRATEGY) {
  constructor(
    config: JwtRevocationConfig,
    private readonly check: AccessTokenCheck,
    private readonly cookies: SessionCookies,
  ) {
    super({
      jwtFromRequest: createTokenExtractor(config),
      // passport-jwt's constructor wants a key source; authenticate() below never asks it.
      secretOrKeyProvider: (_request: unknown, _token: string, done: (error: Error) => void) =>
        done(new Error('verification runs in AccessTokenCheck')),
    } as never);
  }

  /** passport calls this on a copy of the strategy that carries success, fail and error. */
  override authenticate(request: Parameters<Strategy['authenticate']>[0]): void {
    let result: VerifiedToken | Promise<VerifiedToken>;
    try {
      // Cookie mode: a token from the access cookie on a cross-site unsafe request is a 403 that stops the chain.
      if (this.cookies.authenticatesByCookie(request)) this.cookies.assertNotCrossSite(request);
      result = this.check.run(request);
    } catch (error) {
      return this.answer(error);
    }
    if (result instanceof Promise)
      result.then(
        (token) => this.success(token),
        (error: unknown) => this.answer(error),
      );
    else this.success(result);
  }

  /** PassportStrategy's mixin requires it; authenticate() above answers without it. */
  validate(token: VerifiedToken): VerifiedToken {
    return token;
  }

  private answer(error: unknown): void {
    if (error instanceof TokenNotAccepted) this.fail(error, 401);
    else this.error(error as Error);
  }
}
