import type { DataSource } from 'typeorm';
import type { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import { JwtRevocationOptionsError } from '../errors/jwt-revocation-options.error.js';
import { PgNotifyBus } from './pg-notify.bus.js';
import { PollingBus } from './polling.bus.js';
import { RedisBus } from './redis.bus.js';
import type { RevocationBus } from './revocation-bus.interface.js';

/**
 * Redis when one is configured; else LISTEN/NOTIFY on a PostgreSQL data
 * source; else polling. `dataSource` is null when the app brings its own
 * store: then there is nothing to LISTEN on.
 */
export function createRevocationBus(
  config: JwtRevocationConfig,
  dataSource: DataSource | null,
  channel: string,
): RevocationBus {
  const postgres = dataSource?.options.type === 'postgres';
  const mode =
    config.propagation === 'auto' ? (config.redis ? 'redis' : postgres ? 'notify' : 'poll') : config.propagation;
  if (mode === 'redis') return new RedisBus(config.redis!, channel, config.storeTimeout, config.syncInterval);
  if (mode === 'notify') {
    if (!dataSource || !postgres) {
      const what = dataSource
        ? `the data source is ${dataSource.options.type}, not PostgreSQL`
        : 'the module has a store of its own, not a data source';
      throw new JwtRevocationOptionsError(`option "propagation" is 'notify' but ${what}`);
    }
    return new PgNotifyBus(dataSource, channel, config.storeTimeout, config.syncInterval);
  }
  return new PollingBus();
}
