import { IsNull, MoreThan, type DataSource, type QueryDeepPartialEntity } from 'typeorm';
import type { TokenRecord } from '../../interfaces/token-record.interface.js';
import type { RotationRequest, RotationResult } from '../token-store.interface.js';
import type { JwtRevocationEntitySet } from './entities/jwt-revocation.entities.js';
import type { IssuanceStatements } from './issuance-statements.js';
import { transaction } from './transactions.js';

/** Thrown inside a refresh transaction that lost the race for its token, to roll it back. */
class RotationLost extends Error {}

/** Token rows as written: the subject's version is read in the writing transaction. */
export function withVersion(tokens: Omit<TokenRecord, 'subjectVersion'>[], subjectVersion: number) {
  // TypeORM's deep-partial type cannot see through the JSON column's transformer.
  return tokens.map((token) => ({ ...token, subjectVersion })) as QueryDeepPartialEntity<TokenRecord>[];
}

/**
 * One refresh on TypeORM: the presented token's row, its session (locked
 * first), the spend, the new pair, in one transaction. A call that loses the
 * race for a token rolls back and looks again: it then sees the token spent
 * by the winner, with the winner's successors.
 */
export async function rotate(
  dataSource: DataSource,
  entities: JwtRevocationEntitySet,
  statements: IssuanceStatements,
  request: RotationRequest,
): Promise<RotationResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await rotateOnce(dataSource, entities, statements, request);
    } catch (error) {
      if (!(error instanceof RotationLost) || attempt === 3) {
        if (error instanceof RotationLost) return { outcome: 'invalid' };
        throw error;
      }
    }
  }
}

function rotateOnce(
  dataSource: DataSource,
  entities: JwtRevocationEntitySet,
  statements: IssuanceStatements,
  request: RotationRequest,
): Promise<RotationResult> {
  const { tokenLog, session } = entities;
  return transaction(dataSource, async (em): Promise<RotationResult> => {
    // The token, its session and its subject's version: one read.
    const found = await statements.findRefresh(em, request.tokenHash);
    if (!found?.session) return { outcome: 'invalid' };
    const { presented, session: current, subjectVersion: version } = found;
    // Spent comes before expired: a stolen token replayed after its expiry is still evidence of theft.
    if (presented.spentAt !== null) {
      const successors = await em.find(tokenLog, { where: { parentJti: presented.jti } });
      return { outcome: 'spent', presented, successors, session: current };
    }
    if (presented.revokedAt !== null || presented.expiresAt <= request.now) return { outcome: 'invalid' };
    // Issued under an older token version: it outlived a logout everywhere it raced, and refreshes nothing.
    if (presented.subjectVersion < version) return { outcome: 'invalid' };
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
