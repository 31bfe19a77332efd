import { hkdfSync } from 'node:crypto';
import type { ResolvedSigning } from '../config/signing-keys.js';

const derived = new Map<string, WeakMap<ResolvedSigning, Buffer>>();

/**
 * A secret of its own for one purpose, derived (HKDF-SHA256) from a signing
 * key's material: a refresh-token successor or a credential fingerprint made
 * with it never doubles as a signature, and neither is in the database. The
 * same key and purpose give the same secret on every instance.
 */
export function derivedKey(key: ResolvedSigning, purpose: string): Buffer {
  let byKey = derived.get(purpose);
  if (!byKey) derived.set(purpose, (byKey = new WeakMap()));
  let secret = byKey.get(key);
  if (!secret) {
    const material =
      key.signKey.type === 'secret' ? key.signKey.export() : key.signKey.export({ format: 'der', type: 'pkcs8' });
    secret = Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), `nestjs-jwt-revocation ${purpose}`, 32));
    byKey.set(key, secret);
  }
  return secret;
}
