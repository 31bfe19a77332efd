import { fail } from '../errors/jwt-revocation-options.error.js';
import type { CredentialFingerprintOptions } from '../interfaces/credential-fingerprint-options.interface.js';

/** The `credentialFingerprint` option after defaults and checks. */
export interface ResolvedFingerprint {
  secretOf: CredentialFingerprintOptions['secretOf'];
  /** Seconds. */
  cacheTtl: number;
}

const KNOWN = new Set(['secretOf', 'cacheTtl']);

/** Checks `credentialFingerprint`; a wrong value stops the app at bootstrap, naming it. */
export function resolveFingerprint(options: CredentialFingerprintOptions): ResolvedFingerprint {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    fail('option "credentialFingerprint" must be an object such as { secretOf: (subject) => ... }');
  for (const key of Object.keys(options)) if (!KNOWN.has(key)) fail(`unknown option "credentialFingerprint.${key}"`);
  const { secretOf, cacheTtl = 30 } = options;
  if (typeof secretOf !== 'function') fail('option "credentialFingerprint.secretOf" must be a function');
  if (typeof cacheTtl !== 'number' || !Number.isSafeInteger(cacheTtl) || cacheTtl < 0)
    fail(
      `option "credentialFingerprint.cacheTtl" must be a non-negative whole number of seconds, got ${String(cacheTtl)}`,
    );
  return { secretOf, cacheTtl };
}
