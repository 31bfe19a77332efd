import { Injectable } from '@nestjs/common';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import type { VerifiedToken } from '../interfaces/verified-token.interface.js';

/** Bound on cached answers, so a flood of subjects cannot grow memory without end. */
const MAX_CACHED = 10_000;

/**
 * Runs the app's `validateSubject` hook, reusing an answer for
 * `validateSubjectCacheTtl` seconds. A subject's revocation (`revokeAllForSubject`)
 * forgets its answer on every instance as the event arrives (RevocationSync), so
 * a deleted user's next token is judged by the app again.
 */
@Injectable()
export class SubjectValidator {
  private readonly cache = new Map<string, [boolean, number]>();

  constructor(private readonly config: JwtRevocationConfig) {}

  /** Whether the app gave a hook at all: without one the guard skips the call (and its promise). */
  get enabled(): boolean {
    return this.config.validateSubject !== undefined;
  }

  async isAllowed(token: VerifiedToken): Promise<boolean> {
    const hook = this.config.validateSubject;
    if (!hook) return true;
    const ttl = this.config.validateSubjectCacheTtl * 1000;
    const now = Date.now();
    if (ttl > 0) {
      const cached = this.cache.get(token.sub);
      if (cached && cached[1] > now) return cached[0];
    }
    const allowed = (await hook(token.sub, token)) === true;
    if (ttl > 0) {
      this.cache.delete(token.sub);
      if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(token.sub, [allowed, now + ttl]);
    }
    return allowed;
  }

  forget(subject: string): void {
    this.cache.delete(subject);
  }
}
