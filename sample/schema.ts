import 'reflect-metadata';
import { jwtRevocationEntities } from 'nestjs-jwt-revocation';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { databaseOptions } from './config.js';
import { User } from './users/user.entity.js';

/**
 * Prints the SQL that brings DATABASE_URL up to date with the entities (the
 * module's and the sample's), without running it: paste it into a migration.
 * The same statements TypeORM's `migration:generate` would write.
 */
export async function pendingSchemaSql(url: string): Promise<string[]> {
  const {
    autoLoadEntities: _auto,
    synchronize: _sync,
    ...options
  } = databaseOptions(url) as DataSourceOptions & {
    autoLoadEntities?: boolean;
  };
  const source = new DataSource({
    ...options,
    synchronize: false,
    entities: [...jwtRevocationEntities(), User],
  } as DataSourceOptions);
  await source.initialize();
  try {
    const { upQueries } = await source.driver.createSchemaBuilder().log();
    return upQueries.map((q) => `${q.query};`);
  } finally {
    await source.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sql = await pendingSchemaSql(process.env.DATABASE_URL || 'sqlite:data/sample.sqlite');
  console.log(sql.length ? sql.join('\n') : '-- the schema is up to date');
}
