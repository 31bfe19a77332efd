import { Injectable } from '@nestjs/common';
import type { SecurityClient } from '../interfaces/security-event.interface.js';
import { eventClient } from '../storage/security-events.js';
import { stored } from '../storage/stored.js';
import { TokenStore } from '../storage/token-store.interface.js';
import { KeyRing } from '../tokens/key-ring.js';
import { SecurityEventList } from './security-event-list.js';

/** A signing key taken out of the ring, with its security event. */
@Injectable()
export class KeyRetirement {
  constructor(
    private readonly keys: KeyRing,
    private readonly store: TokenStore,
    private readonly events: SecurityEventList,
  ) {}

  /** See `TokenLogService.retireKey()`. */
  async retire(kid: string, client?: SecurityClient): Promise<boolean> {
    if (!this.keys.knows(kid)) return false;
    this.keys.assertRetirable(kid);
    // The record first: a retirement the trail cannot hold is not made (a 503), and a retry does both.
    if (this.events.kept) {
      const at = Date.now();
      const event = { at, type: 'key_retired', subject: null, sessionId: null, target: kid, reason: null } as const;
      await stored(this.store.recordSecurityEvent({ ...event, ...eventClient(client) }));
    }
    return this.keys.retire(kid);
  }
}
