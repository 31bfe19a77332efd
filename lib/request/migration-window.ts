import { Injectable, Logger } from '@nestjs/common';
import { Strategy } from 'passport-jwt';
import { ACCESS_TOKEN_TYP } from '../jwt-revocation.constants.js';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import type { ResolvedMigration } from '../config/migration-options.js';
import { InvalidTokenException } from '../errors/invalid-token.exception.js';
import type { VerifiedToken } from '../interfaces/verified-token.interface.js';
import { KeyRing } from '../tokens/key-ring.js';
import { checkLegacyToken } from '../tokens/legacy-claims.js';
import { createTokenExtractor, headerOf } from './token-extractor.js';

interface Decoded {
  header?: unknown;
  payload?: unknown;
}

/** What passport hands a strategy's `authenticate`: these three answer it. */
interface StrategyAnswers {
  success(decoded: Decoded): void;
  fail(): void;
  error(error: unknown): void;
}

/**
 * The `migration` window on the request path: which tokens take the legacy
 * path, and their verification. The signature, `alg`, `exp`, `nbf`, `iss`
 * and `aud` are checked by a passport-jwt strategy of its own (jsonwebtoken,
 * the window's key and algorithms only), the rest by `checkLegacyToken`.
 */
@Injectable()
export class MigrationWindow {
  private readonly logger = new Logger('JwtRevocation');
  private readonly migration?: ResolvedMigration;
  private readonly verifier?: Strategy;
  private readonly extract: ReturnType<typeof createTokenExtractor>;

  constructor(
    private readonly config: JwtRevocationConfig,
    private readonly keys: KeyRing,
  ) {
    this.extract = createTokenExtractor(config);
    this.migration = config.migration;
    if (!this.migration) return;
    this.verifier = new Strategy(
      {
        jwtFromRequest: (carrier: { token: string }) => carrier.token,
        secretOrKey: this.migration.key,
        algorithms: this.migration.algorithms,
        issuer: this.migration.issuer,
        audience: this.migration.audience,
        ignoreExpiration: false,
        jsonWebTokenOptions: { complete: true, clockTolerance: config.clockTolerance },
      } as never,
      (decoded: Decoded, done: (error: null, decoded: Decoded) => void) => done(null, decoded),
    );
    const until = new Date(this.migration.acceptUntil).toISOString();
    if (this.open) this.logger.log(`migration window: the app's existing tokens are accepted until ${until}`);
    else this.logger.warn(`migration window closed at ${until}: remove the "migration" option`);
    const size = this.migration.key.symmetricKeySize;
    if (size !== undefined && size < 32)
      this.logger.warn(`migration.verify.secret is ${size} bytes: old tokens can be forged until the window closes`);
  }

  /** Old tokens are accepted now. */
  get open(): boolean {
    return this.migration !== undefined && Date.now() < this.migration.acceptUntil;
  }

  /**
   * The request's token when it takes the legacy path: the window is open
   * and its header does not say it is ours. Ours is `typ: at+jwt` or a `kid`
   * of the ring; such a token is judged by our rules alone, so one of ours
   * can never be accepted on the laxer legacy terms. Null otherwise.
   */
  claim(request: unknown): string | null {
    if (!this.open) return null;
    const token = this.extract(request as Parameters<typeof this.extract>[0]);
    const header = token === null ? null : headerOf(token);
    if (header === null) return null;
    const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : undefined;
    const ours = typ === ACCESS_TOKEN_TYP || typ === `application/${ACCESS_TOKEN_TYP}` || this.keys.knows(header.kid);
    return ours ? null : token;
  }

  /** The claims of an old token that verifies and passes the rules; a 401 (InvalidTokenException) otherwise. */
  async verify(rawToken: string): Promise<VerifiedToken> {
    const decoded = this.migration && (await this.verifySignature(rawToken));
    if (!this.migration || !decoded) throw new InvalidTokenException();
    const now = Math.floor(Date.now() / 1000);
    return checkLegacyToken(decoded.header, decoded.payload, rawToken, this.migration, this.config.clockTolerance, now);
  }

  /** passport runs a strategy on a copy of it that carries success, fail and error: so does this. */
  private verifySignature(token: string): Promise<Decoded | null> {
    return new Promise((resolve, reject) => {
      const answers: StrategyAnswers = { success: resolve, fail: () => resolve(null), error: reject };
      const run = Object.assign(Object.create(this.verifier as Strategy) as Strategy, answers);
      run.authenticate({ token } as never);
    });
  }
}
