import type { DataSource, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';

/** TypeORM exports the class from a deep path only. */
type ColumnMetadata = EntityMetadata['columns'][number];

/** A statement's parameters; placeholders as the driver wants them (`$1` on PostgreSQL, `?` elsewhere). */
export class Statement {
  readonly params: unknown[] = [];
  constructor(private readonly numbered: boolean) {}

  param(value: unknown): string {
    this.params.push(value === undefined ? null : value);
    return this.numbered ? `$${this.params.length}` : '?';
  }
}

/**
 * SQL text for the module's tables, for the statements written by hand on the
 * hot paths (a login, a refresh). Names come from the entities' metadata (the
 * `tableNames` extra), values go through each column's transformer, as
 * TypeORM would write them.
 */
export class TableSql {
  constructor(private readonly dataSource: DataSource) {}

  meta(entity: EntityTarget<ObjectLiteral>): EntityMetadata {
    return this.dataSource.getMetadata(entity);
  }

  escape(name: string): string {
    return this.dataSource.driver.escape(name);
  }

  table(metadata: EntityMetadata): string {
    return metadata.tablePath
      .split('.')
      .map((part) => this.escape(part))
      .join('.');
  }

  private columnOf(metadata: EntityMetadata, property: string): ColumnMetadata {
    const column = metadata.findColumnWithPropertyName(property);
    if (!column) throw new Error(`${metadata.name} has no column ${property}`);
    return column;
  }

  column(metadata: EntityMetadata, property: string): string {
    return this.escape(this.columnOf(metadata, property).databaseName);
  }

  /** A property's value as the database stores it (through the column's transformer). */
  stored(metadata: EntityMetadata, property: string, value: unknown): unknown {
    return this.dataSource.driver.preparePersistentValue(value, this.columnOf(metadata, property));
  }

  /** A value as read from the database, as the entity holds it (through the column's transformer). */
  hydrated(column: ColumnMetadata, raw: unknown): unknown {
    return this.dataSource.driver.prepareHydratedValue(raw, column);
  }

  /** The columns an insert writes: every column of the entity but generated ones. */
  private written(metadata: EntityMetadata): ColumnMetadata[] {
    return metadata.columns.filter((c) => !c.isGenerated);
  }

  private rowValue(column: ColumnMetadata, row: object): unknown {
    return this.dataSource.driver.preparePersistentValue(column.getEntityValue(row), column);
  }

  /** `INSERT INTO table (columns) VALUES (...), (...)`: every column of the entity, each value through its transformer. */
  insert(sql: Statement, metadata: EntityMetadata, rows: object[]): string {
    const columns = this.written(metadata);
    const names = columns.map((c) => this.escape(c.databaseName)).join(', ');
    const values = rows.map((row) => `(${columns.map((c) => sql.param(this.rowValue(c, row))).join(', ')})`);
    return `INSERT INTO ${this.table(metadata)} (${names}) VALUES ${values.join(', ')}`;
  }

  /**
   * `INSERT INTO table (columns) SELECT ... FROM (VALUES ...) AS v (...)`, for
   * PostgreSQL: the rows of `insert`, as a query the caller ends with its own
   * joins and WHERE, so the insert can depend on another part of the same
   * statement. `computed` gives a column an SQL expression instead of the
   * rows' value. Each parameter is cast to its column's type: outside an
   * INSERT's own VALUES, PostgreSQL would read an untyped parameter as text.
   */
  insertSelect(
    sql: Statement,
    metadata: EntityMetadata,
    rows: object[],
    computed: Record<string, string> = {},
  ): string {
    const columns = this.written(metadata);
    const given = columns.filter((c) => !(c.propertyName in computed));
    const names = columns.map((c) => this.escape(c.databaseName)).join(', ');
    const alias = (c: ColumnMetadata) => `c${given.indexOf(c)}`;
    const select = columns.map((c) => computed[c.propertyName] ?? `v.${alias(c)}`).join(', ');
    const values = rows.map(
      (row) =>
        `(${given
          .map((c) => `CAST(${sql.param(this.rowValue(c, row))} AS ${this.dataSource.driver.normalizeType(c)})`)
          .join(', ')})`,
    );
    return (
      `INSERT INTO ${this.table(metadata)} (${names}) SELECT ${select}` +
      ` FROM (VALUES ${values.join(', ')}) AS v (${given.map(alias).join(', ')})`
    );
  }
}
