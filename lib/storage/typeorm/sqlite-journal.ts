import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';

const warned = new WeakSet<DataSource>();

/**
 * Says once, at boot, when a SQLite file is in the default rollback-journal
 * mode: every login is a transaction, and each commit there waits for the
 * disk several times; WAL mode with synchronous=NORMAL writes the same rows
 * a few times faster (README, "SQLite: WAL"). In-memory databases are left alone.
 */
export function warnIfSqliteWithoutWal(dataSource: DataSource): void {
  if (dataSource.options.type !== 'better-sqlite3' || warned.has(dataSource) || !dataSource.isInitialized) return;
  const connection = (
    dataSource.driver as { databaseConnection?: { pragma?(source: string, options: object): unknown } }
  ).databaseConnection;
  let mode: unknown;
  try {
    mode = connection?.pragma?.('journal_mode', { simple: true });
  } catch {
    return;
  }
  if (typeof mode !== 'string' || mode.toLowerCase() === 'wal' || mode.toLowerCase() === 'memory') return;
  warned.add(dataSource);
  new Logger('JwtRevocation').warn(
    `the SQLite data source runs in journal_mode=${mode}: each login waits for the disk; set journal_mode=WAL and synchronous=NORMAL in prepareDatabase (README, "SQLite: WAL")`,
  );
}
