import { Logger } from '@nestjs/common';
import type { RevocationEvent } from '../interfaces/revocation-event.interface.js';
import { parseEvent, type BusHandlers, type RevocationBus } from './revocation-bus.interface.js';

/** The part of an ioredis client this bus uses. */
export interface RedisClientLike {
  duplicate(): RedisClientLike;
  publish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  on(event: string, listener: (...args: never[]) => void): unknown;
  quit(): Promise<unknown>;
  status?: string;
}

/**
 * Redis pub/sub through ioredis (an optional peer dependency, loaded only when
 * a Redis URL is configured). ioredis reconnects and re-subscribes by itself;
 * each reconnection triggers a catch-up from the database.
 */
export class RedisBus implements RevocationBus {
  readonly mode = 'redis' as const;
  private readonly logger = new Logger('JwtRevocation');
  private publisher?: RedisClientLike;
  private subscriber?: RedisClientLike;
  private ready = false;
  private readonly ownsPublisher: boolean;

  constructor(
    private readonly redis: string | RedisClientLike,
    private readonly channel: string,
  ) {
    this.ownsPublisher = typeof redis === 'string';
  }

  get connected(): boolean {
    return this.ready;
  }

  async start(handlers: BusHandlers): Promise<void> {
    if (typeof this.redis === 'string') {
      const { Redis } = (await import('ioredis')) as unknown as { Redis: new (url: string, options: object) => RedisClientLike };
      // Fail fast while Redis is down: the revocation is already durable, and the catch-up carries it.
      const options = { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (n: number) => Math.min(n * 200, 2000) };
      this.publisher = new Redis(this.redis, options);
      this.subscriber = new Redis(this.redis, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
    } else {
      this.publisher = this.redis;
      this.subscriber = this.redis.duplicate();
    }
    this.publisher.on('error', () => undefined);
    let first = true;
    this.subscriber.on('error', (error: Error) => this.logger.warn(`redis: ${error.message}`));
    this.subscriber.on('close', () => (this.ready = false));
    this.subscriber.on('ready', () => {
      this.ready = true;
      if (!first) handlers.reconnected();
      first = false;
    });
    this.subscriber.on('message', (_channel: string, message: string) => {
      const event = parseEvent(message);
      if (event) handlers.event(event);
    });
    await this.subscriber.subscribe(this.channel).catch((error: Error) => this.logger.warn(`redis subscribe: ${error.message}`));
  }

  async publish(event: RevocationEvent): Promise<void> {
    await this.publisher?.publish(this.channel, JSON.stringify(event));
  }

  async stop(): Promise<void> {
    await this.subscriber?.quit().catch(() => undefined);
    if (this.ownsPublisher) await this.publisher?.quit().catch(() => undefined);
  }
}
