import { Logger } from '@nestjs/common';
import type { AfterQueryEvent, DataSource, EntitySubscriberInterface } from 'typeorm';

interface DriverConnection {
  end?(): Promise<unknown> | void;
  destroy?(): void;
}

/** node-postgres `query_timeout`, mysql2's per-query `timeout`: the client stopped waiting, the connection did not. */
function isClientTimeout(error: unknown): boolean {
  const e = error as { message?: unknown; code?: unknown } | null;
  return e?.message === 'Query read timeout' || e?.code === 'PROTOCOL_SEQUENCE_TIMEOUT';
}

/**
 * When the driver gives up on a query, its connection still waits for the
 * answer, and whatever is sent on it next queues behind that answer; yet
 * TypeORM releases it to the pool as healthy, and the pool hands it out again
 * (node-postgres and mysql2 both take the most recently released first). A
 * connection the database stopped answering would so fail one call after
 * another long after the database is back. Closing it instead is safe: the
 * query it carried has already failed, and the pool opens a new one.
 */
class HungConnectionCloser implements EntitySubscriberInterface {
  constructor(private readonly type: DataSource['options']['type']) {}

  afterQuery(event: AfterQueryEvent): void {
    if (event.success || !isClientTimeout(event.error)) return;
    const connection = (event.queryRunner as { databaseConnection?: DriverConnection }).databaseConnection;
    // pg: end() destroys the socket of a client with a query in flight, and the pool drops a client that is ending.
    // mysql2: destroy() takes the connection out of its pool.
    if (this.type === 'postgres') void Promise.resolve(connection?.end?.()).catch(() => undefined);
    else connection?.destroy?.();
  }
}

const watched = new WeakSet<DataSource>();

/**
 * Installs the closer on the data source once, and says at boot when the
 * driver has no timeouts: the module's own calls give up after `storeTimeout`,
 * but only the driver can let go of the connection such a call holds.
 */
export function closeHungConnections(dataSource: DataSource): void {
  const { type } = dataSource.options;
  if (watched.has(dataSource) || (type !== 'postgres' && type !== 'mysql' && type !== 'mariadb')) return;
  watched.add(dataSource);
  (dataSource.subscribers as EntitySubscriberInterface[]).push(new HungConnectionCloser(type));
  const options = dataSource.options as {
    extra?: Record<string, unknown>;
    connectTimeoutMS?: number;
    enableQueryTimeout?: boolean;
    maxQueryExecutionTime?: number;
  };
  const missing =
    type === 'postgres'
      ? [
          !options.extra?.query_timeout && 'extra.query_timeout',
          !options.connectTimeoutMS && !options.extra?.connectionTimeoutMillis && 'connectTimeoutMS',
        ].filter(Boolean)
      : options.enableQueryTimeout && options.maxQueryExecutionTime
        ? []
        : ['enableQueryTimeout with maxQueryExecutionTime'];
  if (missing.length > 0) {
    new Logger('JwtRevocation').warn(
      `the ${type} data source sets no ${missing.join(' nor ')}: a database that stops answering keeps each connection it hangs until the socket dies (README, "Several instances")`,
    );
  }
}
