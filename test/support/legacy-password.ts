import { randomBytes, scryptSync } from 'node:crypto';

/** What the sample wrote before the parameters were stored: scrypt at Node's defaults (N = 2^14, r = 8, p = 1), no parameters in the string. */
export function legacyHash(password: string): string {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('base64url')}$${scryptSync(password, salt, 64).toString('base64url')}`;
}
