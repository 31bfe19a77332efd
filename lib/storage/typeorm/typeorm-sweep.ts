import { createHash } from 'node:crypto';
import { In, LessThan, type DataSource, type EntityManager, type EntitySchema, type QueryRunner } from 'typeorm';
import type { SweepBatches } from '../token-store.interface.js';
import type { JwtRevocationEntitySet } from './entities/jwt-revocation.entities.js';
import { runnerTransaction } from './transactions.js';

/** SQLite files being swept by this process (SQLite has one writer per file; other processes' batches cannot collide with ours). */
const sqliteSweeps = new Set<string>();

/**
 * The archive sweep on a TypeORM data source: one sweeper at a time across
 * instances (a PostgreSQL advisory lock, a MariaDB named lock, SQLite's one
 * writer), batches that each copy and delete by the same keys in one
 * transaction, and the purges of old archive rows, sessions and events
 * (revocation events, and security events past their retention).
 */
export class TypeOrmSweep {
  constructor(
    private readonly dataSource: DataSource,
    private readonly entities: JwtRevocationEntitySet,
  ) {}

  async run<T>(work: (batches: SweepBatches) => Promise<T>): Promise<T | null> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      if (!(await this.lockSweep(runner))) return null;
      try {
        return await work({
          archive: (cutoff, now, limit) =>
            runnerTransaction(this.dataSource, runner, (em) => this.archiveBatch(runner, em, cutoff, now, limit)),
          purgeArchive: (before, limit) =>
            runnerTransaction(this.dataSource, runner, (em) => this.purgeArchiveBatch(em, before, limit)),
          purgeSessions: (cutoff, limit) =>
            runnerTransaction(this.dataSource, runner, (em) => this.purgeSessionBatch(em, cutoff, limit)),
          purgeEvents: (before, limit) =>
            runnerTransaction(this.dataSource, runner, (em) =>
              this.purgeEventBatch(em, this.entities.revocationEvent, before, limit),
            ),
          purgeSecurityEvents: (before, limit) =>
            runnerTransaction(this.dataSource, runner, (em) =>
              this.purgeEventBatch(em, this.entities.securityEvent, before, limit),
            ),
        });
      } finally {
        await this.unlockSweep(runner);
      }
    } finally {
      await runner.release();
    }
  }

  /**
   * One batch: copy and delete by the same keys in one transaction, so a
   * crash at any point leaves each row in exactly one table. Spent refresh
   * rows of live sessions stay: reuse detection still needs them.
   */
  private async archiveBatch(
    runner: QueryRunner,
    em: EntityManager,
    cutoff: number,
    now: number,
    limit: number,
  ): Promise<number> {
    const { tokenLog, tokenArchive, session } = this.entities;
    const stillNeeded = em
      .createQueryBuilder()
      .subQuery()
      .select('1')
      .from(session, 's')
      .where('s.sessionId = l.session_id')
      .andWhere('s.revokedAt IS NULL')
      .andWhere('s.expiresAt > :now')
      .getQuery();
    const due = await em
      .createQueryBuilder(tokenLog, 'l')
      .select('l.jti', 'jti')
      .where('l.expiresAt < :cutoff', { cutoff })
      .andWhere(`NOT (l.tokenType = 'refresh' AND l.spentAt IS NOT NULL AND EXISTS ${stillNeeded})`)
      .setParameter('now', now)
      .orderBy('l.expiresAt', 'ASC')
      .limit(limit)
      .getRawMany<{ jti: string }>();
    if (due.length === 0) return 0;
    const jtis = due.map((row) => row.jti);
    const logColumns = this.dataSource.getMetadata(tokenLog).columns;
    const archiveMeta = this.dataSource.getMetadata(tokenArchive);
    const escape = (name: string) => this.dataSource.driver.escape(name);
    const copy = logColumns.reduce(
      (qb, column, i) =>
        i === 0 ? qb.select(`l.${column.propertyName}`, `c${i}`) : qb.addSelect(`l.${column.propertyName}`, `c${i}`),
      em.createQueryBuilder(tokenLog, 'l'),
    );
    // The archive time goes in as a literal: it is our own integer, and a bare
    // parameter in a SELECT list has no type PostgreSQL could infer.
    const [select, parameters] = copy
      .addSelect(String(Math.trunc(now)), 'archived_at')
      .where('l.jti IN (:...jtis)', { jtis })
      .getQueryAndParameters();
    const targets = [
      ...logColumns.map((column) => escape(archiveMeta.findColumnWithPropertyName(column.propertyName)!.databaseName)),
      escape(archiveMeta.findColumnWithPropertyName('archivedAt')!.databaseName),
    ];
    await runner.query(`INSERT INTO ${escape(archiveMeta.tableName)} (${targets.join(', ')}) ${select}`, parameters);
    await em
      .createQueryBuilder()
      .delete()
      .from(tokenLog)
      .where({ jti: In(jtis) })
      .execute();
    return jtis.length;
  }

  private async purgeArchiveBatch(em: EntityManager, before: number, limit: number): Promise<number> {
    const rows = await em.find(this.entities.tokenArchive, {
      where: { expiresAt: LessThan(before) },
      select: { jti: true },
      take: limit,
    });
    if (rows.length === 0) return 0;
    await em.delete(this.entities.tokenArchive, { jti: In(rows.map((row) => row.jti)) });
    return rows.length;
  }

  private async purgeSessionBatch(em: EntityManager, cutoff: number, limit: number): Promise<number> {
    const rows = await em.find(this.entities.session, {
      where: { expiresAt: LessThan(cutoff) },
      select: { sessionId: true },
      take: limit,
    });
    if (rows.length === 0) return 0;
    await em.delete(this.entities.session, { sessionId: In(rows.map((row) => row.sessionId)) });
    return rows.length;
  }

  /** Up to `limit` of the oldest rows of an event table (revocation or security events) older than `before`. */
  private async purgeEventBatch(
    em: EntityManager,
    table: EntitySchema<{ seq: number; at: number }>,
    before: number,
    limit: number,
  ): Promise<number> {
    const rows = await em.find(table, {
      where: { at: LessThan(before) },
      select: { seq: true },
      take: limit,
      order: { seq: 'ASC' },
    });
    if (rows.length === 0) return 0;
    await em.delete(table, { seq: In(rows.map((row) => row.seq)) });
    return rows.length;
  }

  /**
   * One sweeper at a time across instances: a PostgreSQL advisory lock or a
   * MariaDB named lock, both tied to this connection (a killed sweeper frees
   * it); SQLite has one writer per file, so a flag for this process will do.
   */
  private async lockSweep(runner: QueryRunner): Promise<boolean> {
    const type = this.dataSource.options.type;
    if (type === 'postgres') {
      const [row] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [this.sweepLockKey()]);
      return row.locked === true;
    }
    if (type === 'mysql' || type === 'mariadb') {
      const [row] = await runner.query('SELECT GET_LOCK(?, 0) AS locked', [this.sweepLockName()]);
      return Number(row.locked) === 1;
    }
    const file = String((this.dataSource.options as { database?: unknown }).database);
    if (sqliteSweeps.has(file)) return false;
    sqliteSweeps.add(file);
    return true;
  }

  private async unlockSweep(runner: QueryRunner): Promise<void> {
    const type = this.dataSource.options.type;
    if (type === 'postgres') await runner.query('SELECT pg_advisory_unlock($1)', [this.sweepLockKey()]);
    else if (type === 'mysql' || type === 'mariadb')
      await runner.query('SELECT RELEASE_LOCK(?)', [this.sweepLockName()]);
    else sqliteSweeps.delete(String((this.dataSource.options as { database?: unknown }).database));
  }

  /** Named after the log table, so two token logs in one database sweep independently. */
  private sweepLockName(): string {
    return `jwt-revocation-sweep:${this.dataSource.getMetadata(this.entities.tokenLog).tableName}`.slice(0, 64);
  }

  private sweepLockKey(): string {
    return createHash('sha256').update(this.sweepLockName()).digest().readBigInt64BE(0).toString();
  }
}
