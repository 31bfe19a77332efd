import { Logger } from '@nestjs/common';
import type { RevocationEvent } from '../interfaces/revocation-event.interface.js';
import { withStoreTimeout } from '../storage/store-timeout.js';
import { loadOptional } from '../internal/optional-dependency.js';
import { parseEvent } from './event-message.js';
import type { BusHandlers, RevocationBus } from './revocation-bus.interface.js';

/** The part of an ioredis client this bus uses. */
export interface RedisClientLike {
  duplicate(override?: object): RedisClientLike;
  publish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  ping(): Promise<unknown>;
  on(event: string, listener: (...args: never[]) => void): unknown;
  quit(): Promise<unknown>;
  status?: string;
}

/**
 * Redis pub/sub through ioredis (an optional peer dependency, loaded only when
 * a Redis URL is configured). ioredis reconnects and re-subscribes by itself;
 * each reconnection triggers a catch-up from the database.
 *
 * A Redis that accepts the connection and never answers is not an error to
 * ioredis: `connectTimeout` covers only the TCP connect. `socketTimeout`
 * (ioredis 5.4+) drops a socket on which a command waits longer than
 * `timeout`, the ready check included, and a PING every `heartbeat` seconds
 * gives a quiet subscriber connection a command to wait on.
 */
export class RedisBus implements RevocationBus {
  readonly mode = 'redis' as const;
  private readonly logger = new Logger('JwtRevocation');
  private publisher?: RedisClientLike;
  private subscriber?: RedisClientLike;
  private ready = false;
  private heartbeatTimer?: NodeJS.Timeout;
  private readonly ownsPublisher: boolean;

  constructor(
    private readonly redis: string | RedisClientLike,
    private readonly channel: string,
    /** Seconds a connect or a command may take before the socket is dropped (storeTimeout). */
    private readonly timeout: number,
    /** Seconds between PINGs on the subscriber connection (syncInterval). */
    private readonly heartbeat: number,
  ) {
    this.ownsPublisher = typeof redis === 'string';
  }

  get connected(): boolean {
    return this.ready;
  }

  async start(handlers: BusHandlers): Promise<void> {
    const timeouts = { connectTimeout: this.timeout * 1000, socketTimeout: this.timeout * 1000 };
    if (typeof this.redis === 'string') {
      const { Redis } = (await loadOptional('ioredis', 'redis', () => import('ioredis'))) as unknown as {
        Redis: new (url: string, options: object) => RedisClientLike;
      };
      // Fail fast while Redis is down: the revocation is already durable, and the catch-up carries it.
      const options = {
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        retryStrategy: (n: number) => Math.min(n * 200, 2000),
        ...timeouts,
      };
      this.publisher = new Redis(this.redis, options);
      this.subscriber = new Redis(this.redis, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
    } else {
      // The app's client keeps its own options; the subscriber is ours.
      this.publisher = this.redis;
      this.subscriber = this.redis.duplicate(timeouts);
    }
    this.publisher.on('error', () => undefined);
    let first = true;
    this.subscriber.on('error', (error: Error) => this.logger.warn(`redis: ${error.message}`));
    this.subscriber.on('close', () => (this.ready = false));
    const subscriber = this.subscriber;
    this.subscriber.on('ready', () => {
      // ioredis re-subscribes by itself after 'ready', a moment later: connected
      // means the subscription is in place again, so confirm it (SUBSCRIBE twice is harmless).
      subscriber.subscribe(this.channel).then(
        () => {
          this.ready = true;
          if (!first) handlers.reconnected();
          first = false;
        },
        () => undefined,
      );
    });
    this.subscriber.on('message', (_channel: string, message: string) => {
      const event = parseEvent(message);
      if (event) handlers.event(event);
    });
    // Bounded: a Redis that hangs must not hold the boot. The command stays queued, and ioredis re-subscribes on every reconnection.
    await withStoreTimeout(this.subscriber.subscribe(this.channel), this.timeout, 'redis subscribe').catch(
      (error: Error) => this.logger.warn(`redis subscribe: ${error.message}`),
    );
    this.heartbeatTimer = setInterval(() => {
      // An unanswered PING trips socketTimeout: ioredis drops the socket and reconnects ('ready' then triggers a catch-up).
      if (this.ready) subscriber.ping().catch(() => undefined);
    }, this.heartbeat * 1000);
    this.heartbeatTimer.unref();
  }

  async publish(event: RevocationEvent): Promise<void> {
    await this.publisher?.publish(this.channel, JSON.stringify(event));
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    await this.subscriber?.quit().catch(() => undefined);
    if (this.ownsPublisher) await this.publisher?.quit().catch(() => undefined);
  }
}
