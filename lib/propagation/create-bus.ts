import type { DataSource } from 'typeorm';
import type { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import { JwtRevocationOptionsError } from '../errors/jwt-revocation-options.error.js';
import { PgNotifyBus } from './pg-notify.bus.js';
import { RedisBus } from './redis.bus.js';
import { PollingBus } from './polling.bus.js';
import type { RevocationBus } from './revocation-bus.interface.js';

/** Redis when one is configured; else LISTEN/NOTIFY on PostgreSQL; else polling. */
export function createRevocationBus(config: JwtRevocationConfig, dataSource: DataSource, channel: string): RevocationBus {
  const mode = config.propagation === 'auto' ? (config.redis ? 'redis' : dataSource.options.type === 'postgres' ? 'notify' : 'poll') : config.propagation;
  if (mode === 'redis') return new RedisBus(config.redis!, channel, config.storeTimeout, config.syncInterval);
  if (mode === 'notify') {
    if (dataSource.options.type !== 'postgres') throw new JwtRevocationOptionsError(`option "propagation" is 'notify' but the data source is ${dataSource.options.type}, not PostgreSQL`);
    return new PgNotifyBus(dataSource, channel, config.storeTimeout, config.syncInterval);
  }
  return new PollingBus();
}
