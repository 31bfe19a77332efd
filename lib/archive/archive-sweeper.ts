import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import { revocationLookBack } from '../config/migration-options.js';
import { TokenStore } from '../storage/token-store.interface.js';
import { JwtRevocationMetrics } from '../telemetry/jwt-revocation.metrics.js';
import { Telemetry } from '../telemetry/telemetry.js';

export type SweeperConfig = Pick<
  JwtRevocationConfig,
  | 'archiveInterval'
  | 'archiveBatchSize'
  | 'archiveSafetyMargin'
  | 'archiveRetention'
  | 'securityEventRetention'
  | 'clockTolerance'
  | 'accessTokenTtl'
  | 'migration'
>;

export interface ArchiveOptions {
  /** Rows per transaction. Default: `archiveBatchSize`. */
  batchSize?: number;
  /** Move rows that expired before this time. Default: now less `archiveSafetyMargin`. */
  olderThan?: Date;
  /** Called after every batch, for progress reports. */
  onProgress?: (progress: ArchiveResult) => void;
}

export interface ArchiveResult {
  /** False when another instance was sweeping: this call did nothing. */
  ran: boolean;
  archived: number;
  purgedArchive: number;
  purgedSessions: number;
  /** Security events past `securityEventRetention`, deleted. */
  purgedSecurityEvents: number;
  batches: number;
}

/**
 * Moves expired rows from the token log to the archive, batch by batch, so
 * the live log stays small while history is kept. One sweeper at a time
 * across instances (the store's sweep lock); a scheduled run every
 * `archiveInterval` seconds, its timer unref'd and stopped at shutdown,
 * which waits for the batch under way.
 */
@Injectable()
export class ArchiveSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('JwtRevocation');
  private timer?: NodeJS.Timeout;
  private running?: Promise<ArchiveResult>;
  private stopping = false;

  constructor(
    // Only the archive options: the command line builds a sweeper without signing keys.
    @Inject(JwtRevocationConfig) private readonly config: SweeperConfig,
    @Inject(TokenStore) private readonly store: TokenStore,
    // The command line has neither: it sweeps unmeasured.
    @Optional() private readonly metrics?: JwtRevocationMetrics,
    @Optional() private readonly telemetry: Telemetry = Telemetry.off(),
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.archiveInterval === 0) return;
    this.timer = setInterval(() => void this.scheduled(), this.config.archiveInterval * 1000);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One sweep now. Concurrent calls on this instance share the sweep under way. */
  run(options: ArchiveOptions = {}): Promise<ArchiveResult> {
    this.running ??= this.telemetry
      .inSpan('jwt_revocation.archive.sweep', {}, () => this.measured(options))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async measured(options: ArchiveOptions): Promise<ArchiveResult> {
    let result: ArchiveResult;
    try {
      result = await this.sweep(options);
    } catch (error) {
      this.metrics?.swept('failed');
      throw error;
    }
    this.metrics?.swept(result.ran ? 'completed' : 'skipped', result);
    return result;
  }

  private async scheduled(): Promise<void> {
    try {
      const result = await this.run();
      if (result.archived + result.purgedArchive > 0) {
        this.logger.log(
          `archive sweep: ${result.archived} archived, ${result.purgedArchive} purged, ${result.purgedSessions} sessions dropped`,
        );
      }
    } catch (error) {
      this.logger.error(
        `archive sweep failed, next try in ${this.config.archiveInterval} s: ${(error as Error).message}`,
      );
    }
  }

  private async sweep(options: ArchiveOptions): Promise<ArchiveResult> {
    const batchSize = options.batchSize ?? this.config.archiveBatchSize;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
      throw new RangeError('batchSize must be a whole number from 1 to 10000');
    const now = Date.now();
    const cutoff = options.olderThan?.getTime() ?? now - this.config.archiveSafetyMargin * 1000;
    // Never past the safety margin, whatever the caller asks: a token still accepted stays in the log.
    const safeCutoff = Math.min(cutoff, now - this.config.clockTolerance * 1000);
    const result: ArchiveResult = {
      ran: false,
      archived: 0,
      purgedArchive: 0,
      purgedSessions: 0,
      purgedSecurityEvents: 0,
      batches: 0,
    };
    const done = await this.store.sweep(async (batches) => {
      result.ran = true;
      const drain = async (step: () => Promise<number>, add: (n: number) => void) => {
        for (;;) {
          if (this.stopping) return;
          const moved = await step();
          add(moved);
          result.batches++;
          options.onProgress?.({ ...result });
          if (moved < batchSize) return;
        }
      };
      await drain(
        () => batches.archive(safeCutoff, now, batchSize),
        (n) => (result.archived += n),
      );
      await drain(
        () => batches.purgeSessions(safeCutoff, batchSize),
        (n) => (result.purgedSessions += n),
      );
      // Events matter while a token they revoke can still be presented; after that, boot loads come from the tables.
      const eventHorizon = now - (revocationLookBack(this.config, now) + this.config.archiveSafetyMargin) * 1000;
      await drain(
        () => batches.purgeEvents(eventHorizon, batchSize),
        () => undefined,
      );
      if (this.config.archiveRetention !== undefined) {
        const before = now - this.config.archiveRetention * 1000;
        await drain(
          () => batches.purgeArchive(before, batchSize),
          (n) => (result.purgedArchive += n),
        );
      }
      // A store that keeps no security events has no purge for them either.
      if (this.config.securityEventRetention !== undefined && batches.purgeSecurityEvents) {
        const purge = batches.purgeSecurityEvents.bind(batches);
        const before = now - this.config.securityEventRetention * 1000;
        await drain(
          () => purge(before, batchSize),
          (n) => (result.purgedSecurityEvents += n),
        );
      }
      return result;
    });
    return done ?? result;
  }
}
