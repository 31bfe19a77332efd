import { beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { configFromEnv, renewalOf } from '../../sample/config.js';
import { testLogs } from '../support/logs.js';

testLogs.expect(/^JWT_SECRET is not set/);

/** A secret set: configFromEnv warns without one. */
const env = (vars: Record<string, string>) => ({ JWT_SECRET: 'a-test-secret-that-is-long-enough-000', ...vars });

describe('sample configuration from the environment', () => {
  // configFromEnv logs through Nest's static logger: no app here.
  beforeAll(() => {
    Logger.overrideLogger(testLogs);
  });

  it('has safe defaults with nothing set', () => {
    expect(configFromEnv({})).toMatchObject({
      authRateLimit: 30,
      passwordRateLimit: 5,
      revokeRateLimit: 30,
      passwordHashCost: 17,
      sessionMaxLifetime: 2_592_000,
      sessionIdleTimeout: 604_800,
    });
    // A random secret would end every session at a restart: it says so.
    expect(testLogs.take(/^JWT_SECRET is not set/)).toEqual([
      {
        level: 'warn',
        context: 'Sample',
        message: 'JWT_SECRET is not set: using a random secret, so tokens die with this process',
      },
    ]);
  });

  it('takes SESSION_MAX_LIFETIME and SESSION_IDLE_TIMEOUT in seconds', () => {
    expect(configFromEnv(env({ SESSION_MAX_LIFETIME: '86400', SESSION_IDLE_TIMEOUT: '3600' }))).toMatchObject({
      sessionMaxLifetime: 86_400,
      sessionIdleTimeout: 3600,
    });
    expect(() => configFromEnv(env({ SESSION_IDLE_TIMEOUT: '0' }))).toThrow(
      /SESSION_IDLE_TIMEOUT must be a positive whole number of seconds/,
    );
    expect(() => configFromEnv(env({ SESSION_MAX_LIFETIME: '30d' }))).toThrow(
      /SESSION_MAX_LIFETIME must be a positive whole number of seconds/,
    );
  });

  it('renews access tokens a third of their lifetime before exp unless RENEWAL_THRESHOLD says otherwise; 0 turns it off', () => {
    expect(renewalOf(configFromEnv(env({})))).toEqual({ threshold: 300 });
    expect(renewalOf(configFromEnv(env({ ACCESS_TOKEN_TTL: '60' })))).toEqual({ threshold: 20 });
    expect(renewalOf(configFromEnv(env({ ACCESS_TOKEN_TTL: '2' })))).toBeUndefined();
    expect(renewalOf(configFromEnv(env({ RENEWAL_THRESHOLD: '120' })))).toEqual({ threshold: 120 });
    expect(renewalOf(configFromEnv(env({ RENEWAL_THRESHOLD: '0' })))).toBeUndefined();
    expect(() => configFromEnv(env({ RENEWAL_THRESHOLD: '5m' }))).toThrow(
      /RENEWAL_THRESHOLD must be a positive whole number of seconds/,
    );
  });

  it('takes METRICS_TOKEN of 16 characters or more; none by default', () => {
    expect(configFromEnv(env({})).metricsToken).toBeNull();
    expect(configFromEnv(env({ METRICS_TOKEN: 'sixteen-chars-ok' })).metricsToken).toBe('sixteen-chars-ok');
    expect(() => configFromEnv(env({ METRICS_TOKEN: 'short' }))).toThrow(
      /METRICS_TOKEN must be at least 16 characters/,
    );
  });

  it('takes PASSWORD_HASH_COST from 10 to 20 and refuses anything else by name', () => {
    expect(configFromEnv(env({ PASSWORD_HASH_COST: '10' })).passwordHashCost).toBe(10);
    expect(configFromEnv(env({ PASSWORD_HASH_COST: '20' })).passwordHashCost).toBe(20);
    for (const value of ['9', '21', '16.5', 'high', '-17']) {
      expect(() => configFromEnv(env({ PASSWORD_HASH_COST: value }))).toThrow(
        /PASSWORD_HASH_COST must be a whole number from 10 to 20/,
      );
    }
  });

  it('refuses a rate limit that is not a positive whole number', () => {
    for (const name of ['AUTH_RATE_LIMIT', 'PASSWORD_RATE_LIMIT', 'REVOKE_RATE_LIMIT']) {
      expect(() => configFromEnv(env({ [name]: '0' }))).toThrow(new RegExp(`${name} must be a positive whole number`));
    }
  });
});
