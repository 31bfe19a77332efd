import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { databaseOptions } from '../../sample/config.js';
import { tempSqliteFile } from '../support/databases.js';
import { bootModule } from '../support/module-app.js';

/**
 * README, "SQLite: WAL": the sample opens its file in WAL mode with
 * synchronous=NORMAL.
 * SQLite only: the journal is SQLite's.
 */
const pragma = async (m: Awaited<ReturnType<typeof bootModule>>, name: string) =>
  ((await m.source.query(`PRAGMA ${name}`)) as Array<Record<string, unknown>>)[0][name];

describe('SQLite journal mode', () => {
  it('the sample opens SQLite in WAL mode with synchronous=NORMAL', async () => {
    const m = await bootModule(databaseOptions(`sqlite:${tempSqliteFile()}`));
    try {
      expect(await pragma(m, 'journal_mode')).toBe('wal');
      expect(await pragma(m, 'synchronous')).toBe(1); // NORMAL
    } finally {
      await m.close();
    }
  });
});
