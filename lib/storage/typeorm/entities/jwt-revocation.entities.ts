import type { EntitySchema } from 'typeorm';
import { DEFAULT_TABLE_NAMES } from '../../../jwt-revocation.constants.js';
import type { JwtRevocationTableNames } from '../../../interfaces/jwt-revocation-module-options.interface.js';
import type {
  ArchivedTokenRecord,
  SessionRecord,
  SubjectStateRecord,
  TokenRecord,
} from '../../../interfaces/token-record.interface.js';
import type { RevocationEvent } from '../../../interfaces/revocation-event.interface.js';
import type { SecurityEvent } from '../../../interfaces/security-event.interface.js';
import { createRevocationEventEntity } from './revocation-event.entity.js';
import { createSecurityEventEntity } from './security-event.entity.js';
import { createSessionEntity } from './session.entity.js';
import { createSubjectStateEntity } from './subject-state.entity.js';
import { createTokenArchiveEntity } from './token-archive.entity.js';
import { createTokenLogEntity } from './token-log.entity.js';

export interface JwtRevocationEntitySet {
  tokenLog: EntitySchema<TokenRecord>;
  tokenArchive: EntitySchema<ArchivedTokenRecord>;
  session: EntitySchema<SessionRecord>;
  subjectState: EntitySchema<SubjectStateRecord>;
  revocationEvent: EntitySchema<RevocationEvent>;
  securityEvent: EntitySchema<SecurityEvent>;
}

const cache = new Map<string, JwtRevocationEntitySet>();

export function resolveTableNames(names: Partial<JwtRevocationTableNames> = {}): JwtRevocationTableNames {
  return { ...DEFAULT_TABLE_NAMES, ...names };
}

/**
 * The entity schemas for a set of table names. Memoized: forRoot, the store and
 * the host's `entities: [...]` list must all hold the very same objects, or
 * TypeORM sees two entities with one name.
 */
export function jwtRevocationEntitySet(names: Partial<JwtRevocationTableNames> = {}): JwtRevocationEntitySet {
  const resolved = resolveTableNames(names);
  const key = JSON.stringify(resolved);
  let set = cache.get(key);
  if (!set) {
    set = {
      tokenLog: createTokenLogEntity(resolved.tokenLog),
      tokenArchive: createTokenArchiveEntity(resolved.tokenArchive),
      session: createSessionEntity(resolved.session),
      subjectState: createSubjectStateEntity(resolved.subjectState),
      revocationEvent: createRevocationEventEntity(resolved.revocationEvent),
      securityEvent: createSecurityEventEntity(resolved.securityEvent),
    };
    cache.set(key, set);
  }
  return set;
}

/**
 * The entities to list in the host's TypeORM options when it does not use
 * `autoLoadEntities`. Pass the same `tableNames` as to forRoot.
 */
export function jwtRevocationEntities(names: Partial<JwtRevocationTableNames> = {}): EntitySchema[] {
  return Object.values(jwtRevocationEntitySet(names)) as EntitySchema[];
}
