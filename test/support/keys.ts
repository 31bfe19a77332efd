import { generateKeyPairSync } from 'node:crypto';

/** The HMAC secret the test apps sign with, unless a test brings its own key. */
export const TEST_SECRET = 'test-secret-that-is-at-least-32-bytes-long!';

export type AsymmetricAlgorithm = 'ES256' | 'RS256' | 'EdDSA';

/** A fresh key pair for an asymmetric algorithm: P-256 for ES256, 2048-bit RSA for RS256, Ed25519 for EdDSA. */
export function keyPair(algorithm: AsymmetricAlgorithm) {
  if (algorithm === 'EdDSA') return generateKeyPairSync('ed25519');
  return algorithm === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/** The digest node:crypto's sign and verify take for a JWS algorithm: none for EdDSA, which hashes inside. */
export const digestOf = (algorithm: AsymmetricAlgorithm): string | null => (algorithm === 'EdDSA' ? null : 'sha256');
