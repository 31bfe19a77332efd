import jwt from 'jsonwebtoken';
import type { MigrationOptions } from 'nestjs-jwt-revocation';

/** The secret the app signed with before it adopted the module (its JWT_SECRET). */
export const LEGACY_SECRET = 'the-old-JWT_SECRET-the-app-signed-with-for-years';

/** Lifetime the old app gave its tokens: @nestjs/jwt's `signOptions: { expiresIn: '1h' }`. */
export const LEGACY_LIFETIME = 3600;

/**
 * A token exactly as @nestjs/jwt's `JwtService.sign(payload)` makes it under
 * `JwtModule.register({ secret, signOptions: { expiresIn } })`: jsonwebtoken,
 * HS256, header `{ alg, typ: 'JWT' }`, the payload plus `iat` and `exp`.
 */
export function legacyToken(
  payload: object,
  options: jwt.SignOptions = {},
  secret: jwt.Secret = LEGACY_SECRET,
): string {
  // jsonwebtoken refuses an option given as undefined: `{ expiresIn: undefined }` here means "no exp".
  const given = Object.entries({ expiresIn: LEGACY_LIFETIME, ...options }).filter(([, value]) => value !== undefined);
  return jwt.sign(payload, secret, Object.fromEntries(given));
}

/** The `migration` option for those tokens: open for an hour unless told. */
export function legacyMigration(overrides: Partial<MigrationOptions> = {}): MigrationOptions {
  return {
    acceptUntil: new Date(Date.now() + 3_600_000),
    maxTokenLifetime: LEGACY_LIFETIME,
    verify: { secret: LEGACY_SECRET, algorithms: ['HS256'] },
    ...overrides,
  };
}
