import { EntitySchema, type EntitySchemaColumnOptions } from 'typeorm';
import type { TokenRecord } from '../../../interfaces/token-record.interface.js';
import { epochMillis, jsonText, varchar } from './column-types.js';

/** Columns shared by the token log and the archive, so both stay row-compatible. */
export function tokenColumns(): Record<keyof TokenRecord, EntitySchemaColumnOptions> {
  return {
    jti: { ...varchar('jti', 64), primary: true },
    subject: varchar('subject', 255),
    tokenType: varchar('token_type', 16),
    sessionId: varchar('session_id', 64),
    subjectVersion: { name: 'subject_version', type: 'int' },
    issuedAt: epochMillis('issued_at'),
    expiresAt: epochMillis('expires_at'),
    revokedAt: epochMillis('revoked_at', true),
    revokeReason: varchar('revoke_reason', 32, true),
    userAgent: varchar('user_agent', 512, true),
    ip: varchar('ip', 64, true),
    claims: jsonText('claims'),
    tokenHash: varchar('token_hash', 64, true),
    parentJti: varchar('parent_jti', 64, true),
    spentAt: epochMillis('spent_at', true),
  };
}

export function createTokenLogEntity(tableName: string): EntitySchema<TokenRecord> {
  return new EntitySchema<TokenRecord>({
    name: 'JwtTokenLog',
    tableName,
    columns: tokenColumns(),
    indices: [
      // revokeAllForSubject, listSessions
      { name: `IDX_${tableName}_subject`, columns: ['subject'] },
      // revokeSession
      { name: `IDX_${tableName}_session`, columns: ['sessionId'] },
      // boot load of revoked tokens, archive sweep
      { name: `IDX_${tableName}_expires`, columns: ['expiresAt'] },
      // refresh: look-up by hash
      { name: `IDX_${tableName}_hash`, columns: ['tokenHash'], unique: true },
    ],
  });
}
