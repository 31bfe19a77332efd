import { Injectable } from '@nestjs/common';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import type { ResolvedSigning } from '../config/signing-keys.js';

/**
 * The signing keys at run time. The current key signs; every key verifies
 * the tokens that name its `kid` (a token without `kid` is checked against
 * the current key). `retire(kid)` drops a key on this instance at once: its
 * tokens fail from the next request on, without a restart. Remove it from the
 * configuration too, or the next boot brings it back.
 */
@Injectable()
export class KeyRing {
  private readonly keys = new Map<string, ResolvedSigning>();
  private currentKey: ResolvedSigning;

  constructor(config: JwtRevocationConfig) {
    this.currentKey = config.keys[0];
    for (const key of config.keys) if (key.kid !== undefined) this.keys.set(key.kid, key);
  }

  get current(): ResolvedSigning {
    return this.currentKey;
  }

  /** The current key and every other live one, the current first. */
  get live(): ResolvedSigning[] {
    return [...new Set([this.currentKey, ...this.keys.values()])];
  }

  /** Every algorithm a live key uses (for metadata such as a discovery document); each token is checked with its own key's alone. */
  get algorithms(): string[] {
    return [...new Set(this.live.map((key) => key.algorithm))];
  }

  /** The key a token's header points at, or undefined (unknown or retired kid, or an algorithm the key does not use). */
  forHeader(kid: unknown, alg: unknown): ResolvedSigning | undefined {
    const key =
      kid === undefined
        ? this.currentKey.kid === undefined
          ? this.currentKey
          : undefined
        : typeof kid === 'string'
          ? this.keys.get(kid)
          : undefined;
    return key && key.algorithm === alg ? key : undefined;
  }

  /** Whether `kid` names a live key: such a token is ours, whatever else its header says. */
  knows(kid: unknown): boolean {
    return typeof kid === 'string' && this.keys.has(kid);
  }

  /** Stops accepting tokens signed with this key. The current key cannot be retired. */
  retire(kid: string): boolean {
    this.assertRetirable(kid);
    return this.keys.delete(kid);
  }

  /** Throws for the current key: it signs new tokens. */
  assertRetirable(kid: string): void {
    if (kid === this.currentKey.kid)
      throw new Error(`key "${kid}" signs new tokens: make another key current before retiring it`);
  }

  /** Makes a configured, not retired key the one that signs new tokens. */
  use(kid: string): void {
    const key = this.keys.get(kid);
    if (!key) throw new Error(`no live key "${kid}"`);
    this.currentKey = key;
  }
}
