import type { DataSourceOptions } from 'typeorm';

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
