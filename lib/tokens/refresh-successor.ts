import { Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import type { ResolvedSigning } from '../config/signing-keys.js';
import { derivedKey } from './derived-key.js';
import { KeyRing } from './key-ring.js';

/**
 * The refresh token that follows a presented one: an HMAC of it (and of its
 * row's jti), keyed with a secret derived from a signing key. The key is
 * never in the database, so a copy of the database plus spent refresh tokens
 * yields no successor; yet every instance holding the key hands the very same
 * successor to a retry within the grace window, while the log stores only
 * hashes.
 */
@Injectable()
export class RefreshSuccessor {
  constructor(private readonly keys: KeyRing) {}

  /**
   * The successor a rotation hands out, under the last live key in the
   * configured order: during a rolling rotation (new key listed first on
   * some instances, absent on others) the old key is the one every instance
   * still holds, so a retry landing anywhere gets the same pair.
   */
  of(presented: string, rowJti: string): string {
    const live = this.keys.live;
    return this.under(live[live.length - 1], presented, rowJti);
  }

  /**
   * The successor `matches` accepts, under any live key, or undefined. Every
   * live key is tried: a retry after the ring changed (a key added, another
   * made current, the oldest retired) still finds the pair it was given.
   */
  find(presented: string, rowJti: string, matches: (candidate: string) => boolean): string | undefined {
    for (const key of this.keys.live) {
      const candidate = this.under(key, presented, rowJti);
      if (matches(candidate)) return candidate;
    }
    return undefined;
  }

  private under(key: ResolvedSigning, presented: string, rowJti: string): string {
    return createHmac('sha256', derivedKey(key, 'refresh successor'))
      .update(rowJti)
      .update('\0')
      .update(presented)
      .digest('base64url');
  }
}
