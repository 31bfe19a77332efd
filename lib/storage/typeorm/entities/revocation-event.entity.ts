import { EntitySchema } from 'typeorm';
import type { RevocationEvent } from '../../../interfaces/revocation-event.interface.js';
import { epochMillis, varchar } from './column-types.js';

/**
 * Every revocation, in order, for a short while: what an instance reads to
 * catch up after a lost message or a reconnect. Rows older than the longest
 * access token lifetime no longer matter and are purged by the archive sweep.
 */
export function createRevocationEventEntity(tableName: string): EntitySchema<RevocationEvent> {
  return new EntitySchema<RevocationEvent>({
    name: 'JwtRevocationEvent',
    tableName,
    columns: {
      // 'integer': SQLite auto-increments only an INTEGER PRIMARY KEY (64-bit
      // there); on PostgreSQL and MariaDB it is 32-bit, about two billion
      // revocations over the table's life, whatever is purged.
      seq: { name: 'seq', type: 'integer', primary: true, generated: 'increment' },
      kind: varchar('kind', 16),
      key: varchar('event_key', 255),
      value: epochMillis('event_value'),
      at: epochMillis('at'),
    },
    indices: [{ name: `IDX_${tableName}_at`, columns: ['at'] }],
  });
}
