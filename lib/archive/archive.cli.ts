#!/usr/bin/env node
/**
 * jwt-revocation-archive: one archive sweep against DATABASE_URL, for cron.
 *
 *   DATABASE_URL=postgres://... jwt-revocation-archive [--batch-size 1000]
 *     [--safety-margin 60] [--retention SECONDS] [--security-event-retention SECONDS]
 *     [--table-prefix jwt_]
 *     [--access-token-ttl 900]   (the app's accessTokenTtl: events are kept that long)
 */
import { DataSource } from 'typeorm';
import { parseArgs } from 'node:util';
import { ArchiveSweeper } from './archive-sweeper.js';
import { assertDatabaseDriver, dataSourceOptionsFromUrl } from '../storage/typeorm/database-url.js';
import { jwtRevocationEntities, jwtRevocationEntitySet } from '../storage/typeorm/entities/jwt-revocation.entities.js';
import { JwtRevocationDefaults } from '../config/jwt-revocation.defaults.js';
import { TypeOrmTokenStore } from '../storage/typeorm/typeorm-token.store.js';

function whole(name: string, value: string | undefined, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got "${value}"`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'batch-size': { type: 'string' },
      'safety-margin': { type: 'string' },
      retention: { type: 'string' },
      'table-prefix': { type: 'string' },
      'security-event-retention': { type: 'string' },
      'access-token-ttl': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(
      'DATABASE_URL=... jwt-revocation-archive [--batch-size N] [--safety-margin S] [--retention S] [--security-event-retention S] [--table-prefix P]',
    );
    return 0;
  }
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set');
  const defaults = new JwtRevocationDefaults();
  const prefix = values['table-prefix'];
  const tableNames = prefix
    ? {
        tokenLog: `${prefix}token_log`,
        tokenArchive: `${prefix}token_archive`,
        session: `${prefix}session`,
        subjectState: `${prefix}subject_state`,
        revocationEvent: `${prefix}revocation_event`,
        securityEvent: `${prefix}security_event`,
      }
    : {};
  const config = {
    ...defaults,
    archiveInterval: 0,
    archiveBatchSize: whole('batch-size', values['batch-size'], defaults.archiveBatchSize)!,
    archiveSafetyMargin: whole('safety-margin', values['safety-margin'], defaults.archiveSafetyMargin)!,
    archiveRetention: whole('retention', values.retention, undefined),
    securityEventRetention: whole('security-event-retention', values['security-event-retention'], undefined),
    // Revocation events are kept this long (plus margins): give the app's own value.
    accessTokenTtl: whole('access-token-ttl', values['access-token-ttl'], defaults.accessTokenTtl)!,
  };
  const options = dataSourceOptionsFromUrl(url);
  assertDatabaseDriver(url);
  const source = new DataSource({ ...options, entities: jwtRevocationEntities(tableNames) });
  await source.initialize();
  try {
    const store = new TypeOrmTokenStore(source, jwtRevocationEntitySet(tableNames));
    const sweeper = new ArchiveSweeper(config, store);
    const started = Date.now();
    const total = await store.countExpired(started - config.archiveSafetyMargin * 1000);
    console.log(`archive: ${total} expired rows in the log; batches of ${config.archiveBatchSize}`);
    let last = 0;
    const result = await sweeper.run({
      onProgress: (p) => {
        if (Date.now() - last < 1000) return;
        last = Date.now();
        const pct = total ? ` (${((100 * p.archived) / total).toFixed(1)}%)` : '';
        console.log(`archive: ${p.archived} moved${pct}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
      },
    });
    if (!result.ran) {
      console.log('archive: another instance is sweeping; nothing done');
      return 0;
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `archive: done in ${seconds.toFixed(1)} s: ${result.archived} moved, ${result.purgedSessions} sessions dropped, ${result.purgedArchive} archive rows purged, ${result.purgedSecurityEvents} security events purged`,
    );
    return 0;
  } finally {
    await source.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`archive: ${error.message}`);
    process.exit(1);
  },
);
