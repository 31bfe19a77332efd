import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { installedVersion } from '../../internal/peer-versions.js';
import { ownRequire } from '../../internal/own-location.js';

/**
 * TypeORM connection options from one URL: `sqlite:<file>`, `postgres://...`,
 * `mysql://...` or `mariadb://...` (TypeORM's `mariadb` type reads MariaDB's
 * schema right; `mysql` on MariaDB proposes the same ALTERs forever). Used by
 * the archive command line and the sample app.
 */
export function dataSourceOptionsFromUrl(url: string): DataSourceOptions {
  if (url.startsWith('sqlite:')) return { type: 'better-sqlite3', database: url.slice('sqlite:'.length) };
  if (/^postgres(ql)?:\/\//.test(url)) return { type: 'postgres', url };
  if (url.startsWith('mysql://')) return { type: 'mysql', url };
  if (url.startsWith('mariadb://')) return { type: 'mariadb', url };
  throw new Error(
    `a database URL must start with sqlite:, postgres://, mysql:// or mariadb:// (got "${url.split(':')[0]}:...")`,
  );
}

/** The driver packages TypeORM loads for a URL, and the database's name for the message. */
function driverFor(url: string): { database: string; packages: readonly string[] } | undefined {
  if (url.startsWith('sqlite:')) return { database: 'SQLite', packages: ['better-sqlite3'] };
  if (/^postgres(ql)?:\/\//.test(url)) return { database: 'PostgreSQL', packages: ['pg'] };
  const mysql = url.startsWith('mysql://') ? 'MySQL' : url.startsWith('mariadb://') ? 'MariaDB' : undefined;
  if (!mysql) return undefined;
  // TypeORM 1 loads mysql2 for both types; 0.3 tries mysql, then mysql2.
  const typeorm = installedVersion('typeorm');
  return { database: mysql, packages: typeorm?.startsWith('0.') ? ['mysql2', 'mysql'] : ['mysql2'] };
}

/**
 * Throws when none of `packages` is installed where TypeORM looks for them
 * (next to TypeORM, then the current directory's node_modules), with the
 * install command. The first package is the one to install.
 */
export function assertDriverInstalled(variable: string, database: string, packages: readonly string[]): void {
  const typeorm = resolveFrom(ownRequire, 'typeorm');
  const places = [
    ...(typeorm ? [createRequire(typeorm)] : []),
    createRequire(join(process.cwd(), 'node_modules', 'index.js')),
  ];
  if (packages.some((name) => places.some((place) => resolveFrom(place, name)))) return;
  throw new Error(
    `${variable} is a ${database} URL, which needs the ${packages[0]} driver: npm install ${packages[0]}`,
  );
}

/**
 * For the command line, before TypeORM tries: the driver a database URL
 * needs, checked up front, so the error names the variable and the command.
 * A URL of no known kind is left to `dataSourceOptionsFromUrl` to refuse.
 */
export function assertDatabaseDriver(url: string, variable = 'DATABASE_URL'): void {
  const driver = driverFor(url);
  if (driver) assertDriverInstalled(variable, driver.database, driver.packages);
}

function resolveFrom(require: NodeJS.Require, name: string): string | undefined {
  try {
    return require.resolve(name);
  } catch {
    return undefined;
  }
}
