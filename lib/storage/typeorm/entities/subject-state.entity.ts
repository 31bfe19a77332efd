import { EntitySchema } from 'typeorm';
import type { SubjectStateRecord } from '../../../interfaces/token-record.interface.js';
import { epochMillis, varchar } from './column-types.js';

/**
 * One row per subject that ever logged in or out everywhere. Its token
 * version is embedded in every token as `ver`: a token with a lower version
 * is dead. A counter, not a timestamp, so a token issued in the same second
 * right after the cutoff still works. Logins and subject-wide revocations
 * lock this row, which orders them on every database.
 */
export function createSubjectStateEntity(tableName: string): EntitySchema<SubjectStateRecord> {
  return new EntitySchema<SubjectStateRecord>({
    name: 'JwtSubjectState',
    tableName,
    columns: {
      subject: { ...varchar('subject', 255), primary: true },
      tokenVersion: { name: 'token_version', type: 'int' },
      // A default, so a table created before this column existed gains it in place.
      epoch: { name: 'epoch', type: 'int', default: 0 },
      revokedAt: epochMillis('revoked_at', true),
      revokeReason: varchar('revoke_reason', 32, true),
    },
    indices: [{ name: `IDX_${tableName}_revoked`, columns: ['revokedAt'] }],
  });
}
