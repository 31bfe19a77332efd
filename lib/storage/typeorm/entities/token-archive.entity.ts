import { EntitySchema } from 'typeorm';
import type { ArchivedTokenRecord } from '../../../interfaces/token-record.interface.js';
import { epochMillis } from './column-types.js';
import { tokenColumns } from './token-log.entity.js';

export function createTokenArchiveEntity(tableName: string): EntitySchema<ArchivedTokenRecord> {
  return new EntitySchema<ArchivedTokenRecord>({
    name: 'JwtTokenArchive',
    tableName,
    columns: { ...tokenColumns(), archivedAt: epochMillis('archived_at') },
    indices: [
      { name: `IDX_${tableName}_subject`, columns: ['subject'] },
      { name: `IDX_${tableName}_session`, columns: ['sessionId'] },
      { name: `IDX_${tableName}_issued`, columns: ['issuedAt'] },
    ],
  });
}
