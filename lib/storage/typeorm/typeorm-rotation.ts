import { IsNull, MoreThan, type DataSource, type EntityManager, type QueryDeepPartialEntity } from 'typeorm';
import type { SessionRecord, TokenRecord } from '../../interfaces/token-record.interface.js';
import type { RotationRequest, RotationResult } from '../token-store.interface.js';
import type { JwtRevocationEntitySet } from './entities/jwt-revocation.entities.js';
import type { IssuanceStatements } from './issuance-statements.js';
import type { PostgresStatements } from './postgres-statements.js';
import { transaction } from './transactions.js';

/** Thrown by an attempt that lost the race for its token: inside a transaction, to roll it back; PostgreSQL's one statement wrote nothing. */
class RotationLost extends Error {}

/** Token rows as written: the subject's version is read in the writing transaction. */
export function withVersion(tokens: Omit<TokenRecord, 'subjectVersion'>[], subjectVersion: number) {
  // TypeORM's deep-partial type cannot see through the JSON column's transformer.
  return tokens.map((token) => ({ ...token, subjectVersion })) as QueryDeepPartialEntity<TokenRecord>[];
}

/**
 * One refresh on TypeORM: the presented token's row, its session (locked
 * first), the spend, the new pair, in one transaction; on PostgreSQL, a read
 * and one statement (PostgresStatements.spend). A call that loses the race
 * for a token writes nothing and looks again: it then sees the token spent
 * by the winner, with the winner's successors.
 */
export async function rotate(
  dataSource: DataSource,
  entities: JwtRevocationEntitySet,
  statements: IssuanceStatements,
  postgres: PostgresStatements | null,
  request: RotationRequest,
): Promise<RotationResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return postgres
        ? await rotateInOneStatement(dataSource.manager, entities, statements, postgres, request)
        : await rotateOnce(dataSource, entities, statements, request);
    } catch (error) {
      if (!(error instanceof RotationLost) || attempt === 3) {
        if (error instanceof RotationLost) return { outcome: 'invalid' };
        throw error;
      }
    }
  }
}

/** The presented token, its session and its subject's version, read; an outcome already, or what the spend needs. */
async function readPresented(
  em: EntityManager,
  entities: JwtRevocationEntitySet,
  statements: IssuanceStatements,
  request: RotationRequest,
): Promise<RotationResult | { presented: TokenRecord; current: SessionRecord; version: number }> {
  // The token, its session and its subject's version: one read.
  const found = await statements.findRefresh(em, request.tokenHash);
  if (!found?.session) return { outcome: 'invalid' };
  const { presented, session: current, subjectVersion: version } = found;
  // Spent comes before expired: a stolen token replayed after its expiry is still evidence of theft.
  if (presented.spentAt !== null) {
    const successors = await em.find(entities.tokenLog, { where: { parentJti: presented.jti } });
    return { outcome: 'spent', presented, successors, session: current };
  }
  if (presented.revokedAt !== null || presented.expiresAt <= request.now) return { outcome: 'invalid' };
  // Issued under an older token version: it outlived a logout everywhere it raced, and refreshes nothing.
  if (presented.subjectVersion < version) return { outcome: 'invalid' };
  return { presented, current, version };
}

async function rotateInOneStatement(
  em: EntityManager,
  entities: JwtRevocationEntitySet,
  statements: IssuanceStatements,
  postgres: PostgresStatements,
  request: RotationRequest,
): Promise<RotationResult> {
  const read = await readPresented(em, entities, statements, request);
  if ('outcome' in read) return read;
  const { presented, current, version } = read;
  const pair = withVersion(request.next(presented, current), version);
  const spent = await postgres.spend(em, request, presented, pair);
  if (spent === 'lost') throw new RotationLost();
  if (spent === 'session-gone') return { outcome: 'invalid' };
  return { outcome: 'rotated', subjectVersion: version };
}

function rotateOnce(
  dataSource: DataSource,
  entities: JwtRevocationEntitySet,
  statements: IssuanceStatements,
  request: RotationRequest,
): Promise<RotationResult> {
  const { tokenLog, session } = entities;
  return transaction(dataSource, async (em): Promise<RotationResult> => {
    const read = await readPresented(em, entities, statements, request);
    if ('outcome' in read) return read;
    const { presented, current, version } = read;
    const next = request.next(presented, current);
    // Taking the session row first (locked until commit on PostgreSQL and
    // MariaDB) orders this refresh against a concurrent revoke of the
    // session; its lifetime and idle limits are checked in the same step.
    const live = await em.update(
      session,
      {
        sessionId: presented.sessionId,
        revokedAt: IsNull(),
        ...(request.createdAfter !== null ? { createdAt: MoreThan(request.createdAfter) } : {}),
        ...(request.seenAfter !== null ? { lastSeenAt: MoreThan(request.seenAfter) } : {}),
      },
      {
        lastSeenAt: request.now,
        expiresAt: Math.max(...next.map((t) => t.expiresAt)),
        userAgent: request.userAgent,
        ip: request.ip,
      },
    );
    if (!live.affected) return { outcome: 'invalid' };
    // Only one of several concurrent refreshes with the same token spends it.
    const spent = await em.update(
      tokenLog,
      { jti: presented.jti, spentAt: IsNull(), revokedAt: IsNull() },
      { spentAt: request.now },
    );
    // Lost the race: roll back the session update made above.
    if (!spent.affected) throw new RotationLost();
    await statements.insertTokenRows(em, withVersion(next, version));
    return { outcome: 'rotated', subjectVersion: version };
  });
}
