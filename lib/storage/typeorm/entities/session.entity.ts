import { EntitySchema } from 'typeorm';
import type { SessionRecord } from '../../../interfaces/token-record.interface.js';
import { epochMillis, varchar } from './column-types.js';

export function createSessionEntity(tableName: string): EntitySchema<SessionRecord> {
  return new EntitySchema<SessionRecord>({
    name: 'JwtSession',
    tableName,
    columns: {
      sessionId: { ...varchar('session_id', 64), primary: true },
      subject: varchar('subject', 255),
      createdAt: epochMillis('created_at'),
      lastSeenAt: epochMillis('last_seen_at'),
      expiresAt: epochMillis('expires_at'),
      revokedAt: epochMillis('revoked_at', true),
      revokeReason: varchar('revoke_reason', 32, true),
      userAgent: varchar('user_agent', 512, true),
      ip: varchar('ip', 64, true),
    },
    indices: [
      // listSessions, revoke of every session of a subject
      { name: `IDX_${tableName}_subject`, columns: ['subject'] },
      // boot load of revoked sessions
      { name: `IDX_${tableName}_revoked`, columns: ['revokedAt'] },
    ],
  });
}
