import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import { TokenStore } from '../storage/token-store.interface.js';
import { withStoreTimeout } from '../storage/store-timeout.js';

/**
 * "Last seen" of sessions without a write per request: the guard notes the
 * time in memory, and a timer writes what changed every
 * `lastSeenFlushInterval` seconds (and once more at shutdown).
 */
@Injectable()
export class SessionActivity implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('JwtRevocation');
  private pending = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(
    config: JwtRevocationConfig,
    private readonly store: TokenStore,
  ) {
    this.interval = config.lastSeenFlushInterval * 1000;
    this.timeout = config.storeTimeout;
  }

  private readonly interval: number;
  private readonly timeout: number;

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.interval);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Seconds resolution: the flush groups sessions seen in the same second into one statement. */
  touch(sessionId: string): void {
    this.pending.set(sessionId, Math.floor(Date.now() / 1000) * 1000);
  }

  /** Not yet written time of a session, epoch ms. */
  lastSeen(sessionId: string): number | undefined {
    return this.pending.get(sessionId);
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      // Bounded, so that shutdown and the next flush never wait on a hung connection.
      await withStoreTimeout(this.store.touchSessions(batch), this.timeout, 'session activity flush');
    } catch (error) {
      // Last seen is informational: keep the newest times for the next try.
      for (const [id, at] of batch) if (!this.pending.has(id)) this.pending.set(id, at);
      this.logger.warn(`could not write session activity: ${(error as Error).message}`);
    }
  }
}
