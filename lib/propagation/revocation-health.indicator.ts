import { Injectable } from '@nestjs/common';
import { RevocationSync } from './revocation-sync.js';

/**
 * A health indicator in @nestjs/terminus's shape (`{ [key]: { status, ... } }`),
 * with no dependency on it: `health.check([() => revocation.check('revocation')])`.
 * Down when the state has not been confirmed against the database within
 * `maxStaleness`.
 */
@Injectable()
export class RevocationHealthIndicator {
  constructor(private readonly sync: RevocationSync) {}

  check<Key extends string = 'jwtRevocation'>(key: Key = 'jwtRevocation' as Key) {
    const status = this.sync.status();
    return {
      [key]: {
        status: status.fresh ? ('up' as const) : ('down' as const),
        mode: status.mode,
        busConnected: status.busConnected,
        lagMs: status.lag,
        lastSyncAt: new Date(status.lastSyncAt).toISOString(),
        lastSeq: status.lastSeq,
      },
    } as Record<
      Key,
      { status: 'up' | 'down'; mode: string; busConnected: boolean; lagMs: number; lastSyncAt: string; lastSeq: number }
    >;
  }
}
