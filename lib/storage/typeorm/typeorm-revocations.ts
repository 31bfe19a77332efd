import { IsNull, MoreThan, Not, type DataSource } from 'typeorm';
import type { RevokeReason } from '../../interfaces/revoke-reason.type.js';
import type { RevocationEvent } from '../../interfaces/revocation-event.interface.js';
import { NO_CLIENT, subjectEvent, tokenEvent } from '../security-events.js';
import type { EventClient, PresentedToken, RevokedSession, RevokedToken } from '../token-store.types.js';
import type { JwtRevocationEntitySet } from './entities/jwt-revocation.entities.js';
import type { RevocationRows } from './revocation-rows.js';
import { rowLock, transaction } from './transactions.js';

/**
 * The TypeORM store's revokes (see `TokenStore` for what each promises):
 * each one transaction that writes the revoked rows, the revocation event
 * other instances apply and the security event of the audit trail together.
 */
export class TypeOrmRevocations {
  constructor(
    private readonly dataSource: DataSource,
    private readonly entities: JwtRevocationEntitySet,
    private readonly rows: RevocationRows,
  ) {}

  async revokeToken(
    jti: string,
    reason: RevokeReason,
    now: number,
    client: EventClient = NO_CLIENT,
  ): Promise<RevokedToken | null> {
    const { tokenLog } = this.entities;
    return transaction(this.dataSource, async (em) => {
      const result = await em.update(tokenLog, { jti, revokedAt: IsNull() }, { revokedAt: now, revokeReason: reason });
      const row = await em.findOne(tokenLog, {
        where: { jti },
        select: { jti: true, subject: true, sessionId: true, tokenType: true, expiresAt: true },
      });
      if (!row) return null;
      // Revoked already: no event, so a client repeating the call writes and publishes nothing.
      const changed = (result.affected ?? 0) > 0;
      if (changed) await this.rows.recordSecurity(em, [tokenEvent(row, reason, now, client)]);
      const event =
        changed && row.tokenType === 'access'
          ? await this.rows.recordEvent(em, 'token', jti, row.expiresAt, now)
          : null;
      return {
        jti: row.jti,
        subject: row.subject,
        sessionId: row.sessionId,
        tokenType: row.tokenType,
        expiresAt: row.expiresAt,
        changed,
        event,
      };
    });
  }

  async revokeSession(
    sessionId: string,
    reason: RevokeReason,
    now: number,
    client: EventClient = NO_CLIENT,
  ): Promise<RevokedSession | null> {
    return transaction(this.dataSource, async (em) => {
      const changed = await this.rows.revokeSessions(em, [sessionId], reason, now);
      const session = await em.findOneBy(this.entities.session, { sessionId });
      if (!session) return null;
      if (changed === 0) return { session, event: null };
      const [event] = await this.rows.sessionsRevoked(em, session.subject, [sessionId], reason, now, client);
      return { session, event };
    });
  }

  async revokePresented(
    token: PresentedToken,
    reason: RevokeReason,
    now: number,
    client: EventClient = NO_CLIENT,
  ): Promise<RevocationEvent | null> {
    return transaction(this.dataSource, async (em) => {
      // A session the log never saw gets a row, revoked below: the boot load of every instance reads it.
      await em
        .createQueryBuilder()
        .insert()
        .into(this.entities.session)
        .values({
          sessionId: token.sessionId,
          subject: token.subject,
          createdAt: token.issuedAt,
          lastSeenAt: now,
          expiresAt: token.expiresAt,
          revokedAt: null,
          revokeReason: null,
          userAgent: null,
          ip: null,
        })
        .orIgnore()
        .execute();
      const changed = await this.rows.revokeSessions(em, [token.sessionId], reason, now);
      if (changed === 0) return null;
      const [event] = await this.rows.sessionsRevoked(em, token.subject, [token.sessionId], reason, now, client);
      return event;
    });
  }

  async revokeSubject(
    subject: string,
    reason: RevokeReason,
    now: number,
    client: EventClient = NO_CLIENT,
  ): Promise<{ version: number; event: RevocationEvent }> {
    const { session, tokenLog } = this.entities;
    return transaction(this.dataSource, async (em) => {
      await this.rows.raiseSubject(em, subject, {
        tokenVersion: () => 'token_version + 1',
        epoch: () => 'epoch + 1',
        revokedAt: now,
        revokeReason: reason,
      });
      await em.update(session, { subject, revokedAt: IsNull() }, { revokedAt: now, revokeReason: reason });
      await em.update(
        tokenLog,
        { subject, revokedAt: IsNull(), expiresAt: MoreThan(now) },
        { revokedAt: now, revokeReason: reason },
      );
      const version = await this.rows.subjectVersion(em, subject);
      await this.rows.recordSecurity(em, [subjectEvent(subject, reason, now, client)]);
      return { version, event: await this.rows.recordEvent(em, 'subject', subject, version, now) };
    });
  }

  async revokeOtherSessions(
    subject: string,
    keepSessionId: string,
    reason: RevokeReason,
    now: number,
    client: EventClient = NO_CLIENT,
  ): Promise<RevocationEvent[]> {
    return transaction(this.dataSource, async (em) => {
      // The subject's row first, as logins take it: a login committed before
      // is listed below; one after sees the new epoch (and refuses, if given the old).
      await this.rows.raiseSubject(em, subject, { epoch: () => 'epoch + 1' });
      const sessions = await em.find(this.entities.session, {
        where: { subject, revokedAt: IsNull(), sessionId: Not(keepSessionId) },
        select: { sessionId: true },
        lock: rowLock(this.dataSource),
      });
      const ids = sessions.map((s) => s.sessionId);
      await this.rows.revokeSessions(em, ids, reason, now);
      return this.rows.sessionsRevoked(em, subject, ids, reason, now, client);
    });
  }
}
