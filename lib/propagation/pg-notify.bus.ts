import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { RevocationEvent } from '../interfaces/revocation-event.interface.js';
import { parseEvent, type BusHandlers, type RevocationBus } from './revocation-bus.interface.js';

interface PgClient {
  query(sql: string, params?: unknown[]): Promise<unknown>;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error' | 'end', listener: (error?: Error) => void): unknown;
  removeAllListeners(): unknown;
}

/**
 * PostgreSQL LISTEN/NOTIFY: one pooled connection kept for LISTEN, re-opened
 * with back-off when it drops; each re-opening triggers a catch-up.
 */
export class PgNotifyBus implements RevocationBus {
  readonly mode = 'notify' as const;
  private readonly logger = new Logger('JwtRevocation');
  private client?: PgClient;
  private release?: (error?: unknown) => void;
  private retry?: NodeJS.Timeout;
  private stopped = false;
  private failures = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly channel: string,
  ) {}

  get connected(): boolean {
    return this.client !== undefined;
  }

  async start(handlers: BusHandlers): Promise<void> {
    await this.connect(handlers, false);
  }

  async publish(event: RevocationEvent): Promise<void> {
    await this.dataSource.query('SELECT pg_notify($1, $2)', [this.channel, JSON.stringify(event)]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    this.drop();
  }

  private async connect(handlers: BusHandlers, reconnect: boolean): Promise<void> {
    try {
      const driver = this.dataSource.driver as unknown as { obtainMasterConnection(): Promise<[PgClient, (error?: unknown) => void]> };
      const [client, release] = await driver.obtainMasterConnection();
      this.client = client;
      this.release = release;
      client.on('notification', (message) => {
        const event = message.channel === this.channel && message.payload ? parseEvent(message.payload) : null;
        if (event) handlers.event(event);
      });
      const lost = (error?: Error) => {
        if (this.client !== client) return;
        this.logger.warn(`LISTEN connection lost${error ? `: ${error.message}` : ''}`);
        this.drop(error ?? new Error('connection ended'));
        this.schedule(handlers);
      };
      client.on('error', lost);
      client.on('end', lost);
      await client.query(`LISTEN "${this.channel.replace(/"/g, '""')}"`);
      this.failures = 0;
      if (reconnect) handlers.reconnected();
    } catch (error) {
      this.drop(error);
      if (!reconnect) this.logger.warn(`LISTEN failed, retrying: ${(error as Error).message}`);
      this.schedule(handlers);
    }
  }

  private schedule(handlers: BusHandlers): void {
    if (this.stopped || this.retry) return;
    const delay = Math.min(500 * 2 ** this.failures++, 5000);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.connect(handlers, true);
    }, delay);
    this.retry.unref();
  }

  private drop(error?: unknown): void {
    const client = this.client;
    this.client = undefined;
    client?.removeAllListeners();
    // pg throws an 'error' with no listener at the process: keep one.
    client?.on('error', () => undefined);
    // A client released with an error is destroyed, not returned to the pool.
    this.release?.(error ?? true);
    this.release = undefined;
  }
}
