import { Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import type { ResolvedFingerprint } from '../config/fingerprint-options.js';
import type { ResolvedSigning } from '../config/signing-keys.js';
import type { VerifiedToken } from '../interfaces/verified-token.interface.js';
import { derivedKey } from './derived-key.js';
import { KeyRing } from './key-ring.js';

/** The claim that carries it: set by the module, refused in `issue()`'s custom claims. */
export const FINGERPRINT_CLAIM = 'cfp';

/** Bound on cached subjects, so a flood of subjects cannot grow memory without end. */
const MAX_CACHED = 10_000;

/**
 * Credential fingerprints (the `credentialFingerprint` option): a session's
 * tokens carry an HMAC of the subject's secret (its password hash, say) as
 * it was at login, under a key derived from a signing key; a session whose
 * subject's secret has changed since is refused by the guard and by
 * `refresh()`. The secret itself is neither stored nor put in a token, and
 * without the signing key the fingerprint gives nothing to guess against.
 *
 * A fingerprint is made under the last live key (as refresh successors are:
 * the key every instance holds during a rolling rotation) and checked
 * against every live key, so a key rotation does not end sessions. The
 * guard reuses a subject's answer for `cacheTtl` seconds; a subject's
 * revocation forgets it on every instance, as `validateSubject`'s.
 */
@Injectable()
export class CredentialFingerprint {
  private readonly options?: ResolvedFingerprint;
  /** subject -> [its fingerprints under every live key (empty: no such subject), until (epoch ms)]. */
  private readonly cache = new Map<string, [Set<string>, number]>();

  constructor(
    config: JwtRevocationConfig,
    private readonly keys: KeyRing,
  ) {
    this.options = config.credentialFingerprint;
  }

  get enabled(): boolean {
    return this.options !== undefined;
  }

  /**
   * The fingerprint a new or refreshed session carries, and every one its
   * current secret has under the live keys; null for a subject the app no
   * longer knows. Asks the app every time: logins and refreshes must see a
   * change at once.
   */
  async current(subject: string): Promise<{ stamp: string; accepted: Set<string> } | null> {
    const accepted = await this.lookUp(subject);
    if (accepted === null) return null;
    const live = this.keys.live;
    return { stamp: this.under(live[live.length - 1], subject, accepted.secret), accepted: accepted.all };
  }

  /** Whether the token's fingerprint is one of its subject's current secret (the guard; cached for `cacheTtl`). */
  async matches(token: VerifiedToken): Promise<boolean> {
    const claim = token[FINGERPRINT_CLAIM];
    if (typeof claim !== 'string') return false;
    const ttl = (this.options as ResolvedFingerprint).cacheTtl * 1000;
    const now = Date.now();
    const cached = ttl > 0 ? this.cache.get(token.sub) : undefined;
    if (cached && cached[1] > now) return cached[0].has(claim);
    const found = await this.lookUp(token.sub);
    const accepted = found?.all ?? new Set<string>();
    if (ttl > 0) {
      this.cache.delete(token.sub);
      if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(token.sub, [accepted, now + ttl]);
    }
    return accepted.has(claim);
  }

  /** Drops a subject's cached answer: after its revocation, its next request asks the app again. */
  forget(subject: string): void {
    this.cache.delete(subject);
  }

  private async lookUp(subject: string): Promise<{ secret: string; all: Set<string> } | null> {
    const secret = await (this.options as ResolvedFingerprint).secretOf(subject);
    if (secret === null || secret === undefined) return null;
    if (typeof secret !== 'string') throw new TypeError('credentialFingerprint.secretOf must return a string or null');
    return { secret, all: new Set(this.keys.live.map((key) => this.under(key, subject, secret))) };
  }

  private under(key: ResolvedSigning, subject: string, secret: string): string {
    // 128 bits: a forgery needs the key, not luck.
    return createHmac('sha256', derivedKey(key, 'credential fingerprint'))
      .update(subject)
      .update('\0')
      .update(secret)
      .digest('base64url')
      .slice(0, 22);
  }
}
