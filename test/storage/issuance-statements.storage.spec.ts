import 'reflect-metadata';
import { expect, it } from '@jest/globals';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import type { Logger as TypeOrmLogger } from 'typeorm';
import { eachDatabase } from '../support/databases.js';
import { typeOrmLogs } from '../support/logs.js';
import { bootModule } from '../support/module-app.js';
import { appForSuite } from '../support/suite-app.js';

/**
 * README, "What a login costs": the statements issue() and refresh() send,
 * BEGIN and COMMIT included, counted by the data source's TypeORM logger. The
 * module's timers are kept out of the count (they would not run for minutes).
 */
const QUIET = { syncInterval: 300, maxStaleness: 600, lastSeenFlushInterval: 300, archiveInterval: 0 };

/** PostgreSQL: one statement each, outside a transaction (lib/storage/typeorm/postgres-statements.ts). */
const ISSUE = { sqlite: 5, postgres: 1, mariadb: 6 };
/** A new subject: PostgreSQL's one statement finds no row, then the transaction creates it. */
const ISSUE_NEW = { sqlite: 7, postgres: 7, mariadb: 8 };
const REFRESH = { sqlite: 6, postgres: 2, mariadb: 6 };

eachDatabase('statements per issue() and refresh()', (database) => {
  const db = database();
  const queries: string[] = [];
  const logger: TypeOrmLogger = { ...typeOrmLogs, logQuery: (query) => void queries.push(query) };
  const m = appForSuite(() => bootModule({ ...db.fresh(), logger } as TypeOrmModuleOptions, QUIET));

  const counted = async (call: () => Promise<unknown>) => {
    queries.length = 0;
    await call();
    return [...queries];
  };

  it(`issue() of a subject seen before: ${ISSUE.sqlite} statements on SQLite, ${ISSUE.postgres} on PostgreSQL, ${ISSUE.mariadb} on MariaDB, one insert per table`, async () => {
    await m.tokens.issue('count.seen');
    const sent = await counted(() => m.tokens.issue('count.seen', {}, { userAgent: 'ua', ip: '127.0.0.1' }));
    expect(sent).toHaveLength(ISSUE[db.name]);
    // The two token rows in one multi-row insert, the session row once.
    expect(sent.filter((q) => /INSERT INTO \W?jwt_token_log/.test(q))).toHaveLength(1);
    expect(sent.filter((q) => /INSERT INTO \W?jwt_session/.test(q))).toHaveLength(1);
    // The rows are what the service reads back.
    const [session] = (await m.tokens.listSessions('count.seen')).sessions;
    expect(session).toMatchObject({ userAgent: 'ua', ip: '127.0.0.1' });
  });

  it(`issue() of a new subject: ${ISSUE_NEW.sqlite} statements on SQLite, ${ISSUE_NEW.postgres} on PostgreSQL, ${ISSUE_NEW.mariadb} on MariaDB (the transaction creates its row)`, async () => {
    const sent = await counted(() => m.tokens.issue('count.new'));
    expect(sent).toHaveLength(ISSUE_NEW[db.name]);
    expect(sent.filter((q) => /INSERT\s+(IGNORE\s+)?INTO \W?jwt_subject_state/.test(q))).toHaveLength(1);
  });

  it(`refresh(): ${REFRESH.sqlite} statements on SQLite and MariaDB, ${REFRESH.postgres} on PostgreSQL (one read of the token, its session and its subject)`, async () => {
    const issued = await m.tokens.issue('count.refresh');
    const sent = await counted(() => m.tokens.refresh(issued.refreshToken));
    expect(sent).toHaveLength(REFRESH[db.name]);
    expect(sent.filter((q) => q.startsWith('SELECT'))).toHaveLength(1);
  });
});
