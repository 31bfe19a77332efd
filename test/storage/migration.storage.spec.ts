import 'reflect-metadata';
import { expect, it } from '@jest/globals';
import { DEFAULT_TABLE_NAMES } from 'nestjs-jwt-revocation';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { pendingSchemaSql } from '../../sample/schema.js';
import { eachDatabase } from '../support/databases.js';

/** The URL behind a test database's options, for the schema script, which takes DATABASE_URL. */
function urlOf(options: Record<string, unknown>): string {
  return options.type === 'better-sqlite3' ? `sqlite:${String(options.database)}` : String(options.url);
}

/** Every table the module and the sample need: the five of the module, then the sample's users. */
const TABLES = [
  'jwt_token_log',
  'jwt_token_archive',
  'jwt_session',
  'jwt_subject_state',
  'jwt_revocation_event',
  'jwt_security_event',
  'sample_user',
];

eachDatabase('migration path (npm run schema:sql)', (database) => {
  it('prints the DDL for every table, and once it is applied nothing is left to migrate', async () => {
    const db = database();
    const fresh = db.fresh() as Record<string, unknown>;
    // Empty the database (dropSchema) without creating anything.
    const { autoLoadEntities: _a, synchronize: _s, ...wipe } = fresh;
    const wiper = new DataSource({ ...wipe, entities: [], synchronize: false } as unknown as DataSourceOptions);
    await wiper.initialize();
    await wiper.dropDatabase().catch(async () => {
      for (const table of TABLES) {
        await wiper.query(`DROP TABLE IF EXISTS ${table}`);
      }
    });
    await wiper.destroy();

    const url = urlOf(fresh);
    const sql = await pendingSchemaSql(url);
    const text = sql.join('\n');
    // The list above is the module's whole set: a table added to the module must be added to it.
    expect(TABLES).toEqual(expect.arrayContaining(Object.values(DEFAULT_TABLE_NAMES)));
    for (const table of TABLES) {
      expect(text).toMatch(new RegExp(`CREATE TABLE [\`"]?${table}[\`"]?`));
    }

    // Apply it as a migration would, then ask again: a stable schema has no diff.
    const { autoLoadEntities: _b, synchronize: _c, ...plain } = db.reopen() as Record<string, unknown>;
    const runner = new DataSource({ ...plain, entities: [], synchronize: false } as unknown as DataSourceOptions);
    await runner.initialize();
    for (const statement of sql) await runner.query(statement.replace(/;$/, ''));
    await runner.destroy();
    expect(await pendingSchemaSql(url)).toEqual([]);
  });
});
