import { IsNull, MoreThan, type DataSource } from 'typeorm';
import type { RenewalRequest, RenewalResult } from '../token-store.interface.js';
import type { JwtRevocationEntitySet } from './entities/jwt-revocation.entities.js';
import type { IssuanceStatements } from './issuance-statements.js';
import type { RevocationRows } from './revocation-rows.js';
import { rowLock, transaction } from './transactions.js';
import { withVersion } from './typeorm-rotation.js';

const REFUSED: RenewalResult = { outcome: 'refused' };

/**
 * One sliding renewal on TypeORM. The session row is locked first, as every
 * revoke takes it (the store's lock order: session, then tokens): a revoke
 * of the session or the subject that commits first is seen here and refuses;
 * one that comes after waits, then revokes the row written here too. Racers
 * on other instances wait on that lock as well, and then find the winner's
 * token instead of writing another.
 */
export function renewAccess(
  dataSource: DataSource,
  entities: JwtRevocationEntitySet,
  statements: IssuanceStatements,
  rows: RevocationRows,
  request: RenewalRequest,
): Promise<RenewalResult> {
  const { tokenLog, session } = entities;
  const lock = rowLock(dataSource);
  return transaction(dataSource, async (em): Promise<RenewalResult> => {
    const current = await em.findOne(session, { where: { sessionId: request.sessionId }, lock });
    if (!current || current.revokedAt !== null) return REFUSED;
    const presented = await em.findOne(tokenLog, { where: { jti: request.jti }, lock });
    if (
      !presented ||
      presented.tokenType !== 'access' ||
      presented.sessionId !== request.sessionId ||
      presented.revokedAt !== null
    )
      return REFUSED;
    // A logout everywhere since the token was issued: its version is behind, and it renews nothing.
    const version = await rows.subjectVersion(em, presented.subject);
    if (presented.subjectVersion !== version) return REFUSED;
    // Read after taking the lock: a racer that renewed first has committed its row.
    const newer = await em.findOne(tokenLog, {
      where: {
        sessionId: request.sessionId,
        tokenType: 'access',
        revokedAt: IsNull(),
        expiresAt: MoreThan(request.dueAfter),
      },
      order: { expiresAt: 'DESC', jti: 'ASC' },
    });
    if (newer) return newer.subjectVersion === version ? { outcome: 'renewed', token: newer, written: false } : REFUSED;
    const next = request.next(presented, current);
    if (next === null) return REFUSED;
    await statements.insertTokenRows(em, withVersion([next], version));
    await em.update(
      session,
      { sessionId: request.sessionId },
      {
        lastSeenAt: Math.max(current.lastSeenAt, request.now),
        expiresAt: Math.max(current.expiresAt, next.expiresAt),
        userAgent: request.userAgent,
        ip: request.ip,
      },
    );
    return { outcome: 'renewed', token: { ...next, subjectVersion: version }, written: true };
  });
}
