import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { JWT_REVOCATION_BUS } from '../jwt-revocation.constants.js';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import type { RevocationEvent } from '../interfaces/revocation-event.interface.js';
import { TokenStore } from '../storage/token-store.interface.js';
import type { RevocationBus } from './revocation-bus.interface.js';
import { RevocationState } from '../revocation/revocation-state.js';
import { SubjectValidator } from '../request/subject-validator.js';
import { CredentialFingerprint } from '../tokens/credential-fingerprint.js';
import { withStoreTimeout } from '../storage/store-timeout.js';

/** Events re-read before the last catch-up: covers transactions that committed late and clock skew between instances. */
const OVERLAP_MS = 30_000;

export interface SyncStatus {
  mode: RevocationBus['mode'];
  busConnected: boolean;
  /** Last time this instance confirmed its state against the database (epoch ms). */
  lastSyncAt: number;
  /** Milliseconds since then. */
  lag: number;
  fresh: boolean;
  lastSeq: number;
}

/**
 * Keeps this instance's revocation state in step with the others: loads it
 * at boot (before the app takes requests), applies events from the bus as
 * they come, and catches up from the database every `syncInterval` seconds,
 * on reconnect, and when an event's sequence skips. The state is only
 * trusted for `maxStaleness` seconds after the last catch-up that reached
 * the database; past that the guard answers 503 (`failClosed`) or warns.
 */
@Injectable()
export class RevocationSync implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('JwtRevocation');
  private lastSyncAt = 0;
  private lastSeq = 0;
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  private warnedAt = 0;

  constructor(
    private readonly config: JwtRevocationConfig,
    private readonly store: TokenStore,
    private readonly state: RevocationState,
    @Inject(JWT_REVOCATION_BUS) private readonly bus: RevocationBus,
    private readonly subjects: SubjectValidator,
    private readonly fingerprints: CredentialFingerprint,
  ) {}

  async onModuleInit(): Promise<void> {
    const started = Date.now();
    await this.state.load();
    this.confirmed(started);
    await this.bus.start({
      event: (event) => this.receive(event),
      reconnected: () => void this.catchUp(),
    });
    this.timer = setInterval(() => void this.catchUp(), this.config.syncInterval * 1000);
    this.timer.unref();
    this.logger.log(
      `revocations propagate by ${this.bus.mode}; state trusted for ${this.config.maxStaleness} s without a catch-up`,
    );
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.syncing?.catch(() => undefined);
    await this.bus.stop();
  }

  /** A revocation this instance just wrote: apply it here, and tell the others. */
  propagate(event: RevocationEvent): void {
    this.receive(event);
    this.bus.publish(event).catch((error: Error) => {
      // Durable already: the others catch up within syncInterval.
      this.logger.warn(
        `could not publish a revocation (others catch up within ${this.config.syncInterval} s): ${error.message}`,
      );
    });
  }

  /** Reads the events since the last catch-up from the database. One at a time. */
  catchUp(): Promise<void> {
    this.syncing ??= this.readEvents().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  status(): SyncStatus {
    const lag = Date.now() - this.lastSyncAt;
    return {
      mode: this.bus.mode,
      busConnected: this.bus.connected,
      lastSyncAt: this.lastSyncAt,
      lag,
      fresh: lag <= this.config.maxStaleness * 1000,
      lastSeq: this.lastSeq,
    };
  }

  private receive(event: RevocationEvent): void {
    this.apply(event);
    // A jump in the sequence: something was lost (or rolled back); look. Until this instance has seen a
    // number (the boot load reads rows, not the sequence), any event past the first counts as a jump.
    if (event.seq > this.lastSeq + 1) void this.catchUp();
    this.lastSeq = Math.max(this.lastSeq, event.seq);
  }

  /**
   * A subject's revocation also drops its cached `validateSubject` answer
   * (and credential fingerprint), on every instance: a deleted or blocked user's next token is judged by the app
   * again, not by a yes cached before. A catch-up re-reading the event drops it
   * again, which costs the app one more question, never a wrong answer.
   */
  private apply(event: RevocationEvent): void {
    this.state.apply(event);
    if (event.kind === 'subject') {
      this.subjects.forget(event.key);
      this.fingerprints.forget(event.key);
    }
  }

  private async readEvents(): Promise<void> {
    const started = Date.now();
    try {
      // Bounded: a hung query must not hold this catch-up, nor the next one, past storeTimeout.
      const events = await withStoreTimeout(
        this.store.loadEvents(this.lastSyncAt - OVERLAP_MS),
        this.config.storeTimeout,
        'revocation catch-up',
      );
      for (const event of events) {
        this.apply(event);
        this.lastSeq = Math.max(this.lastSeq, event.seq);
      }
      this.confirmed(started);
    } catch (error) {
      const lag = Math.round((Date.now() - this.lastSyncAt) / 1000);
      if (Date.now() - this.warnedAt > 10_000) {
        this.warnedAt = Date.now();
        const consequence = this.config.failClosed
          ? 'tokens get 503 once it passes'
          : 'failClosed is off: tokens are still accepted';
        this.logger.error(
          `revocation catch-up failed (${lag} s since the last; bound ${this.config.maxStaleness} s, ${consequence}): ${(error as Error).message}`,
        );
      }
    }
  }

  private confirmed(at: number): void {
    this.lastSyncAt = Math.max(this.lastSyncAt, at);
    this.state.trustUntil(this.lastSyncAt + this.config.maxStaleness * 1000);
  }
}
