import { afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { DataSource, EntitySubscriberInterface } from 'typeorm';
import { TokenStore, type JwtRevocationModuleOptions } from 'nestjs-jwt-revocation';
import {
  closeHungConnections,
  JwtRevocationConfig,
  RevocationState,
  SessionActivity,
  StoreTimeoutError,
  withStoreTimeout,
} from 'nestjs-jwt-revocation/testing';
import { testLogs } from '../support/logs.js';
import { pollingSync } from '../support/sync.js';

/**
 * storeTimeout alone, with stores that never answer: no database here. What
 * it does against a real stalled database is in test/e2e/stalled-*.e2e-spec.ts.
 */
const configWith = (options: Partial<JwtRevocationModuleOptions>) =>
  JwtRevocationConfig.from({ signing: { secret: 'x'.repeat(32) }, ...options } as JwtRevocationModuleOptions);

const never = <T>() => new Promise<T>(() => undefined);

/** A store whose calls hang until told otherwise; counts them. */
function hangingStore(): TokenStore & { calls: Record<string, number>; answer: boolean } {
  const store = {
    calls: {} as Record<string, number>,
    answer: false,
    call<T>(name: string, value: T): Promise<T> {
      store.calls[name] = (store.calls[name] ?? 0) + 1;
      return store.answer ? Promise.resolve(value) : never<T>();
    },
    loadEvents: () => store.call('loadEvents', []),
    findActiveAccessToken: () => store.call('findActiveAccessToken', Date.now() + 60_000),
    touchSessions: () => store.call('touchSessions', undefined),
  };
  return store as unknown as TokenStore & { calls: Record<string, number>; answer: boolean };
}

describe('option storeTimeout', () => {
  it('defaults to 5 s, lowered to maxStaleness - syncInterval when that is less', () => {
    expect(configWith({}).storeTimeout).toBe(5);
    expect(configWith({ syncInterval: 1, maxStaleness: 3 }).storeTimeout).toBe(2);
    expect(configWith({ syncInterval: 1, maxStaleness: 3, storeTimeout: 1 }).storeTimeout).toBe(1);
  });

  it('is refused at bootstrap, naming the option, when a catch-up could outlive maxStaleness', () => {
    expect(() => configWith({ syncInterval: 1, maxStaleness: 3, storeTimeout: 3 })).toThrow(
      /option "storeTimeout" \(3\) plus "syncInterval" \(1\) exceeds "maxStaleness" \(3\)/,
    );
    expect(() => configWith({ storeTimeout: 0 })).toThrow(
      /option "storeTimeout" must be a positive whole number of seconds/,
    );
    expect(() => configWith({ storeTimeout: 1.5 })).toThrow(/option "storeTimeout"/);
  });
});

describe('withStoreTimeout', () => {
  it('gives up on a call that does not answer, naming it', async () => {
    await expect(withStoreTimeout(never(), 0.05, 'a test call')).rejects.toThrow(
      new StoreTimeoutError('a test call', 0.05),
    );
  });

  it('passes an answer or an error through', async () => {
    await expect(withStoreTimeout(Promise.resolve(7), 1, 'x')).resolves.toBe(7);
    await expect(withStoreTimeout(Promise.reject(new Error('boom')), 1, 'x')).rejects.toThrow('boom');
  });
});

describe('calls on the revocation path against a store that hangs', () => {
  // No app here: the providers log through Nest's static logger.
  beforeAll(() => {
    Logger.overrideLogger(testLogs);
  });
  testLogs.expect(
    /^revocation catch-up failed .*did not answer within 1 s \(storeTimeout\)$/,
    /^could not write session activity: .*did not answer within 1 s \(storeTimeout\)$/,
  );

  it('a catch-up gives up after storeTimeout, and the next one asks again', async () => {
    const store = hangingStore();
    const config = configWith({ storeTimeout: 1 });
    const state = new RevocationState(config, store);
    const sync = pollingSync(config, store, state);
    const started = Date.now();
    await sync.catchUp();
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(testLogs.take(/^revocation catch-up failed/)).toHaveLength(1);
    store.answer = true;
    await sync.catchUp();
    expect(store.calls.loadEvents).toBe(2);
    expect(testLogs.take(/^revocation catch-up failed/)).toHaveLength(0);
    expect(sync.status().lastSyncAt).toBeGreaterThanOrEqual(started + 990);
  });

  it('an allowlist look-up fails after storeTimeout, and the next request for the same token asks again', async () => {
    const store = hangingStore();
    const state = new RevocationState(configWith({ mode: 'allowlist', storeTimeout: 1 }), store);
    await expect(state.isActiveInStore('jti-1')).rejects.toBeInstanceOf(StoreTimeoutError);
    store.answer = true;
    await expect(state.isActiveInStore('jti-1')).resolves.toBe(true);
    expect(store.calls.findActiveAccessToken).toBe(2);
  });

  it('a last-seen flush gives up after storeTimeout and keeps the times for the next one', async () => {
    const store = hangingStore();
    const activity = new SessionActivity(configWith({ storeTimeout: 1 }), store);
    activity.touch('session-1');
    await activity.flush();
    expect(activity.lastSeen('session-1')).toBeDefined();
    expect(testLogs.take(/^could not write session activity/)).toHaveLength(1);
    store.answer = true;
    await activity.flush();
    expect(activity.lastSeen('session-1')).toBeUndefined();
    expect(store.calls.touchSessions).toBe(2);
  });
});

describe('closeHungConnections', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  const fakeSource = (options: Record<string, unknown>) =>
    ({ options, subscribers: [] as EntitySubscriberInterface[] }) as unknown as DataSource;
  const failed = (error: unknown, databaseConnection: object) =>
    ({ success: false, error, queryRunner: { databaseConnection } }) as never;

  it('closes a PostgreSQL connection whose query the driver gave up on, and no other', () => {
    const source = fakeSource({ type: 'postgres', connectTimeoutMS: 5000, extra: { query_timeout: 6000 } });
    closeHungConnections(source);
    closeHungConnections(source);
    expect(source.subscribers).toHaveLength(1);
    const closer = source.subscribers[0];
    const end = jest.fn(() => Promise.resolve());
    closer.afterQuery!(failed(new Error('duplicate key value violates unique constraint'), { end }));
    expect(end).not.toHaveBeenCalled();
    closer.afterQuery!(failed(new Error('Query read timeout'), { end }));
    expect(end).toHaveBeenCalledTimes(1);
  });

  it('destroys a mysql2 connection whose query timed out', () => {
    const source = fakeSource({ type: 'mariadb', enableQueryTimeout: true, maxQueryExecutionTime: 6000 });
    closeHungConnections(source);
    const destroy = jest.fn();
    source.subscribers[0].afterQuery!(
      failed(Object.assign(new Error('Query inactivity timeout'), { code: 'PROTOCOL_SEQUENCE_TIMEOUT' }), { destroy }),
    );
    expect(destroy).toHaveBeenCalledTimes(1);
  });

  it('warns at boot when the driver has no timeouts of its own', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    closeHungConnections(fakeSource({ type: 'postgres' }));
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/sets no extra\.query_timeout nor connectTimeoutMS/));
    closeHungConnections(fakeSource({ type: 'better-sqlite3' }));
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
