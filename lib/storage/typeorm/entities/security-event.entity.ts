import { EntitySchema } from 'typeorm';
import type { SecurityEvent } from '../../../interfaces/security-event.interface.js';
import { epochMillis, varchar } from './column-types.js';

/**
 * The audit trail: every revocation that changed something, and every key
 * retired, for as long as `securityEventRetention` keeps them (forever by
 * default). Written in the revoking transaction.
 */
export function createSecurityEventEntity(tableName: string): EntitySchema<SecurityEvent> {
  return new EntitySchema<SecurityEvent>({
    name: 'JwtSecurityEvent',
    tableName,
    columns: {
      // 'integer', as the revocation events: SQLite auto-increments only an
      // INTEGER PRIMARY KEY; about two billion events on PostgreSQL and MariaDB.
      seq: { name: 'seq', type: 'integer', primary: true, generated: 'increment' },
      at: epochMillis('at'),
      type: varchar('event_type', 24),
      subject: varchar('subject', 255, true),
      sessionId: varchar('session_id', 64, true),
      target: varchar('target', 64, true),
      reason: varchar('reason', 32, true),
      ip: varchar('ip', 64, true),
      userAgent: varchar('user_agent', 512, true),
    },
    indices: [
      // a subject's events, newest first, a page at a time
      { name: `IDX_${tableName}_subject_seq`, columns: ['subject', 'seq'] },
      // the retention purge
      { name: `IDX_${tableName}_at`, columns: ['at'] },
    ],
  });
}
