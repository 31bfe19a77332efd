import { describe, it } from '@jest/globals';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseOptions } from '../../sample/config.js';

/** A real database the storage suites run against. */
export interface TestDatabase {
  name: 'sqlite' | 'postgres' | 'mariadb';
  /** Fresh options: `dropSchema` wipes what an earlier suite left. */
  fresh(): TypeOrmModuleOptions;
  /** The same database again, kept as is (a restarted app). */
  reopen(): TypeOrmModuleOptions;
}

function server(name: 'postgres' | 'mariadb', given: string): TestDatabase {
  // TEST_MYSQL_URL points at MariaDB here: TypeORM's 'mariadb' type reads its schema right.
  const url = name === 'mariadb' ? given.replace(/^mysql:/, 'mariadb:') : given;
  return {
    name,
    fresh: () => ({ ...databaseOptions(url), dropSchema: true }),
    reopen: () => databaseOptions(url),
  };
}

/** A new, empty SQLite file in its own temp directory. */
export function tempSqliteFile(prefix = 'jwt-revocation-'): string {
  return join(mkdtempSync(join(tmpdir(), prefix)), 'test.sqlite');
}

/** The options of a new, empty SQLite database, as the sample builds them. */
export function tempSqliteDatabase(prefix?: string): TypeOrmModuleOptions {
  return databaseOptions(`sqlite:${tempSqliteFile(prefix)}`);
}

function sqlite(): TestDatabase {
  let file = '';
  return {
    name: 'sqlite',
    fresh: () => {
      file = tempSqliteFile();
      return databaseOptions(`sqlite:${file}`);
    },
    reopen: () => databaseOptions(`sqlite:${file}`),
  };
}

const servers: Array<['postgres' | 'mariadb', string]> = [
  ['postgres', 'TEST_POSTGRES_URL'],
  ['mariadb', 'TEST_MYSQL_URL'],
];

/**
 * Runs a suite once per database: SQLite always, PostgreSQL and MariaDB when
 * their URL is set. A database left out says so loudly; under CI it fails.
 */
export function eachDatabase(title: string, suite: (db: () => TestDatabase) => void): void {
  describe(`${title} [sqlite]`, () => suite(sqlite));
  for (const [name, variable] of servers) {
    const url = process.env[variable];
    if (url) {
      describe(`${title} [${name}]`, () => suite(() => server(name, url)));
    } else if (process.env.CI) {
      describe(`${title} [${name}]`, () => {
        it(`needs ${variable}: CI must run every database`, () => {
          throw new Error(`${variable} is not set`);
        });
      });
    } else {
      console.warn(`\n*** SKIPPED: "${title}" on ${name}: set ${variable} to run it (.ci/run does). ***\n`);
      // A URL that is never dialled: a skipped describe still runs its body, and a suite may build its options there.
      const nowhere = `${name === 'postgres' ? 'postgres' : 'mysql'}://skipped.invalid/${variable}`;
      describe.skip(`${title} [${name}] (SKIPPED: ${variable} not set)`, () => suite(() => server(name, nowhere)));
    }
  }
}

/**
 * `it` for a test with two app instances alive at once on one database: only
 * PostgreSQL and MariaDB run it. SQLite is a single file with one writer and no
 * server; a second instance on it would test file locking, not the store's row locks.
 */
export function twoInstancesOn(db: TestDatabase): typeof it | typeof it.skip {
  return db.name === 'sqlite' ? it.skip : it;
}
