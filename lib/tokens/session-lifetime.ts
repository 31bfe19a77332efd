import { Injectable } from '@nestjs/common';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import type { SessionRecord } from '../interfaces/token-record.interface.js';
import { SessionActivity } from '../request/session-activity.js';

/** When a session ends: `sessionMaxLifetime` after its creation, or when idle longer than `sessionIdleTimeout`. */
@Injectable()
export class SessionLifetime {
  constructor(
    private readonly config: JwtRevocationConfig,
    private readonly activity: SessionActivity,
  ) {}

  /** When a session created at `createdAt` must end (epoch ms): `sessionMaxLifetime` after it, or never. */
  end(createdAt: number): number {
    return this.config.sessionMaxLifetime === undefined ? Infinity : createdAt + this.config.sessionMaxLifetime * 1000;
  }

  /** Whether a session may still be refreshed: not revoked, within its absolute lifetime and its idle timeout. */
  isLive(session: SessionRecord | null, now: number): session is SessionRecord {
    if (!session || session.revokedAt !== null || this.end(session.createdAt) <= now) return false;
    const idle = this.config.sessionIdleTimeout;
    return idle === undefined || this.lastSeen(session) > now - idle * 1000;
  }

  /** The later of the stored last-seen time and this instance's not yet written one. */
  lastSeen(session: SessionRecord): number {
    return Math.max(session.lastSeenAt, this.activity.lastSeen(session.sessionId) ?? 0);
  }
}
