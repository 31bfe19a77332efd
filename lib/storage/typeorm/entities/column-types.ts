import type { EntitySchemaColumnOptions } from 'typeorm';

/**
 * Times are stored as epoch milliseconds in BIGINT columns: exact on SQLite,
 * PostgreSQL and MariaDB alike, with no driver time-zone conversion. The pg and
 * mysql2 drivers return BIGINT as a string; this turns it back into a number.
 */
const bigintAsNumber = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};

export function epochMillis(name: string, nullable = false): EntitySchemaColumnOptions {
  return { name, type: 'bigint', nullable, transformer: bigintAsNumber };
}

export function varchar(name: string, length: number, nullable = false): EntitySchemaColumnOptions {
  return { name, type: 'varchar', length, nullable };
}

/** JSON kept as text: the one JSON column type all three databases share. */
const jsonAsText = {
  to: (value: Record<string, unknown> | null | undefined) => (value == null ? null : JSON.stringify(value)),
  from: (value: string | null) => (value == null ? null : (JSON.parse(value) as Record<string, unknown>)),
};

export function jsonText(name: string): EntitySchemaColumnOptions {
  return { name, type: 'text', nullable: true, transformer: jsonAsText };
}
