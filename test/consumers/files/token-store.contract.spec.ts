// Inside the generated Nest 11 app: the library's store contract
// (nestjs-jwt-revocation/testing) on this app's TypeORM 0.3, on SQLite always
// and on PostgreSQL and MariaDB when TEST_POSTGRES_URL / TEST_MYSQL_URL are set
// (CI sets them; with CI set, a missing URL fails instead of skipping).
import { DataSource, DataSourceOptions } from 'typeorm';
import { jwtRevocationEntities } from 'nestjs-jwt-revocation';
import { jwtRevocationEntitySet, tokenStoreContract, TypeOrmTokenStore } from 'nestjs-jwt-revocation/testing';

const databases: { name: string; variable?: string; options: (url: string) => DataSourceOptions }[] = [
  { name: 'SQLite', options: () => ({ type: 'better-sqlite3', database: ':memory:' }) },
  { name: 'PostgreSQL', variable: 'TEST_POSTGRES_URL', options: (url) => ({ type: 'postgres', url }) },
  { name: 'MariaDB', variable: 'TEST_MYSQL_URL', options: (url) => ({ type: 'mariadb', url }) },
];

for (const { name, variable, options } of databases) {
  const url = variable ? process.env[variable] : '';
  if (url === undefined) {
    if (process.env.CI) throw new Error(`${variable} is not set: the store contract cannot run on ${name}`);
    console.warn(`\n*** SKIPPED: the store contract on ${name}: set ${variable} to run it ***\n`);
    continue;
  }
  tokenStoreContract(
    `TypeOrmTokenStore on TypeORM 0.3, ${name}`,
    async () => {
      // A fresh schema for each topic: the contract wants a store holding nothing yet.
      const source = new DataSource({
        ...options(url),
        entities: jwtRevocationEntities(),
        synchronize: true,
        dropSchema: true,
      } as DataSourceOptions);
      await source.initialize();
      return { store: new TypeOrmTokenStore(source, jwtRevocationEntitySet()), close: () => source.destroy() };
    },
    { describe, it, expect, beforeAll, afterAll },
  );
}
