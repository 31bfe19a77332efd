import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { databaseOptions } from '../../sample/config.js';
import { tempSqliteFile } from '../support/databases.js';
import { testLogs } from '../support/logs.js';
import { bootModule } from '../support/module-app.js';

/**
 * README, "SQLite: WAL": the sample opens its file in WAL mode with
 * synchronous=NORMAL, and the module says at boot when a SQLite file is not.
 * SQLite only: the journal is SQLite's.
 */
const WARNING = /^the SQLite data source runs in journal_mode=/;
testLogs.expect(WARNING);

const pragma = async (m: Awaited<ReturnType<typeof bootModule>>, name: string) =>
  ((await m.source.query(`PRAGMA ${name}`)) as Array<Record<string, unknown>>)[0][name];

describe('SQLite journal mode', () => {
  it('the sample opens SQLite in WAL mode with synchronous=NORMAL, and the module stays quiet about it', async () => {
    const m = await bootModule(databaseOptions(`sqlite:${tempSqliteFile()}`));
    try {
      expect(await pragma(m, 'journal_mode')).toBe('wal');
      expect(await pragma(m, 'synchronous')).toBe(1); // NORMAL
      expect(testLogs.take(WARNING)).toEqual([]);
    } finally {
      await m.close();
    }
  });

  it('a SQLite file in the default rollback-journal mode gets one warning at boot, naming the fix', async () => {
    const plain = { type: 'better-sqlite3', database: tempSqliteFile(), autoLoadEntities: true, synchronize: true };
    const m = await bootModule(plain as TypeOrmModuleOptions);
    try {
      expect(await pragma(m, 'journal_mode')).toBe('delete');
      expect(testLogs.take(WARNING).map((line) => line.message)).toEqual([
        expect.stringMatching(/journal_mode=delete: .*journal_mode=WAL and synchronous=NORMAL in prepareDatabase/),
      ]);
    } finally {
      await m.close();
    }
  });
});
