import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

/**
 * TypeORM's SQLite drivers run every query runner on one connection and do not
 * queue transactions: a second BEGIN while one is open fails ("cannot start a
 * transaction within a transaction"). Transactions on SQLite therefore take
 * turns, one data source at a time; the other databases run them in parallel.
 */
const sqliteTurns = new WeakMap<DataSource, Promise<unknown>>();

/** PostgreSQL deadlock or serialization failure, MySQL/MariaDB deadlock. */
function isDeadlock(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: string; errno?: number } } | null)?.driverError;
  return (
    driverError?.code === '40P01' ||
    driverError?.code === '40001' ||
    driverError?.code === 'ER_LOCK_DEADLOCK' ||
    driverError?.errno === 1213
  );
}

/** Runs `work` now, or on SQLite after the transaction before it has finished. */
export function inTurn<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  if (dataSource.options.type !== 'better-sqlite3') return work();
  const previous = sqliteTurns.get(dataSource) ?? Promise.resolve();
  const turn = previous.then(work, work);
  sqliteTurns.set(
    dataSource,
    turn.catch(() => undefined),
  );
  return turn;
}

/**
 * A transaction; on SQLite, after the one before it has finished. A
 * deadlock victim (concurrent revokes of one subject on MariaDB take gap
 * locks in either order) is rolled back whole by the database, so running
 * it again is safe.
 */
export async function transaction<T>(dataSource: DataSource, work: (em: EntityManager) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await inTurn(dataSource, () => dataSource.transaction(work));
    } catch (error) {
      if (attempt >= 5 || !isDeadlock(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, attempt * 5 + Math.random() * 10));
    }
  }
}

/** A transaction on a query runner the caller holds (a sweep keeps its lock on that connection), taking its turn on SQLite. */
export function runnerTransaction<T>(
  dataSource: DataSource,
  runner: QueryRunner,
  work: (em: EntityManager) => Promise<T>,
): Promise<T> {
  return inTurn(dataSource, async () => {
    await runner.startTransaction();
    try {
      const result = await work(runner.manager);
      await runner.commitTransaction();
      return result;
    } catch (error) {
      await runner.rollbackTransaction();
      throw error;
    }
  });
}

/** Row locks on PostgreSQL and MariaDB; SQLite's transactions take turns already (see inTurn). */
export function rowLock(dataSource: DataSource): { mode: 'pessimistic_write' } | undefined {
  const type = dataSource.options.type;
  return type === 'postgres' || type === 'mysql' || type === 'mariadb' ? { mode: 'pessimistic_write' } : undefined;
}
