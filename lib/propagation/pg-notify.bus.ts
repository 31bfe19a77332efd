import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { RevocationEvent } from '../interfaces/revocation-event.interface.js';
import { withStoreTimeout } from '../storage/store-timeout.js';
import { parseEvent } from './event-message.js';
import type { BusHandlers, RevocationBus } from './revocation-bus.interface.js';

interface PgClient {
  query(sql: string, params?: unknown[]): Promise<unknown>;
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error' | 'end', listener: (error?: Error) => void): unknown;
  removeAllListeners(): unknown;
}

/**
 * PostgreSQL LISTEN/NOTIFY: one pooled connection kept for LISTEN, re-opened
 * with back-off when it drops; each re-opening triggers a catch-up.
 *
 * A LISTEN connection is silent by nature, so one that went dead without a
 * reset (a firewall dropped it, the server hangs) looks just like a quiet one:
 * a heartbeat query every `heartbeat` seconds must answer within `timeout`,
 * or the connection is closed and re-opened. Opening it is bounded the same way.
 */
export class PgNotifyBus implements RevocationBus {
  readonly mode = 'notify' as const;
  private readonly logger = new Logger('JwtRevocation');
  private client?: PgClient;
  private release?: (error?: unknown) => void;
  private retry?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private beating = false;
  private stopped = false;
  private failures = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly channel: string,
    /** Seconds opening the connection, or a heartbeat on it, may take (storeTimeout). */
    private readonly timeout: number,
    /** Seconds between heartbeats (syncInterval). */
    private readonly heartbeat: number,
  ) {}

  get connected(): boolean {
    return this.client !== undefined;
  }

  async start(handlers: BusHandlers): Promise<void> {
    await this.connect(handlers, false);
    this.heartbeatTimer = setInterval(() => this.beat(handlers), this.heartbeat * 1000);
    this.heartbeatTimer.unref();
  }

  async publish(event: RevocationEvent): Promise<void> {
    await this.dataSource.query('SELECT pg_notify($1, $2)', [this.channel, JSON.stringify(event)]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeatTimer);
    this.drop();
  }

  private async connect(handlers: BusHandlers, reconnect: boolean): Promise<void> {
    const attempt = { abandoned: false };
    try {
      await withStoreTimeout(this.listen(handlers, attempt), this.timeout, 'LISTEN connection');
      this.failures = 0;
      if (reconnect) handlers.reconnected();
    } catch (error) {
      attempt.abandoned = true;
      this.drop(error);
      if (!reconnect) this.logger.warn(`LISTEN failed, retrying: ${(error as Error).message}`);
      this.schedule(handlers);
    }
  }

  private async listen(handlers: BusHandlers, attempt: { abandoned: boolean }): Promise<void> {
    const driver = this.dataSource.driver as unknown as {
      obtainMasterConnection(): Promise<[PgClient, (error?: unknown) => void]>;
    };
    const [client, release] = await driver.obtainMasterConnection();
    if (attempt.abandoned || this.stopped) {
      // It came after the timeout: the next attempt has its own. Closed, not returned to the pool.
      client.on('error', () => undefined);
      release(new Error('LISTEN connection abandoned'));
      return;
    }
    this.client = client;
    this.release = release;
    client.on('notification', (message) => {
      const event = message.channel === this.channel && message.payload ? parseEvent(message.payload) : null;
      if (event) handlers.event(event);
    });
    const lost = (error?: Error) => this.lose(client, handlers, error ?? new Error('connection ended'));
    client.on('error', lost);
    client.on('end', lost);
    await client.query(`LISTEN "${this.channel.replace(/"/g, '""')}"`);
  }

  /** A trivial query on the LISTEN connection: a connection that cannot answer it gets no notifications either. */
  private beat(handlers: BusHandlers): void {
    const client = this.client;
    if (!client || this.beating) return;
    this.beating = true;
    withStoreTimeout(client.query('SELECT 1'), this.timeout, 'LISTEN heartbeat')
      .catch((error: Error) => this.lose(client, handlers, error))
      .finally(() => (this.beating = false));
  }

  private lose(client: PgClient, handlers: BusHandlers, error: Error): void {
    if (this.client !== client) return;
    this.logger.warn(`LISTEN connection lost: ${error.message}`);
    this.drop(error);
    this.schedule(handlers);
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
