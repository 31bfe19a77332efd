import { In, IsNull, MoreThan, Not, type DataSource, type EntityManager, type QueryDeepPartialEntity } from 'typeorm';
import type { RevocationEvent } from '../../interfaces/revocation-event.interface.js';
import type { RevokeReason } from '../../interfaces/revoke-reason.type.js';
import type { SubjectStateRecord } from '../../interfaces/token-record.interface.js';
import { sessionEvent } from '../security-events.js';
import type { EventClient, NewSecurityEvent } from '../token-store.types.js';
import type { JwtRevocationEntitySet } from './entities/jwt-revocation.entities.js';

/** Keeps IN (...) lists well under every database's parameter limit. */
const IN_CHUNK = 500;

export function chunks<T>(items: T[], size = IN_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The statements the store's transactions share, each inside the caller's
 * transaction (`em`): the subject's row (raise, read), revoking
 * sessions with their tokens, evicting past the session cap, the event
 * row every revocation writes for the other instances, and the security
 * events of the audit trail.
 */
export class RevocationRows {
  constructor(
    private readonly dataSource: DataSource,
    private readonly entities: JwtRevocationEntitySet,
  ) {}

  /**
   * Raises counters of the subject's row in place (the increment happens in
   * the database, so concurrent calls all count), creating the row first for
   * a subject never seen. The update locks the row until commit, as logins
   * do (see IssuanceStatements). Updating before inserting keeps MariaDB from
   * taking the shared lock of a duplicate insert, which deadlocks with a login.
   */
  async raiseSubject(
    em: EntityManager,
    subject: string,
    set: QueryDeepPartialEntity<SubjectStateRecord>,
  ): Promise<void> {
    const update = () =>
      em.createQueryBuilder().update(this.entities.subjectState).set(set).where({ subject }).execute();
    if ((await update()).affected) return;
    await this.ensureSubject(em, subject);
    await update();
  }

  ensureSubject(em: EntityManager, subject: string): Promise<unknown> {
    return em
      .createQueryBuilder()
      .insert()
      .into(this.entities.subjectState)
      .values({ subject, tokenVersion: 0, epoch: 0, revokedAt: null, revokeReason: null })
      .orIgnore()
      .updateEntity(false) // the caller reads the row next: no RETURNING, no reload
      .execute();
  }

  async subjectVersion(em: EntityManager, subject: string): Promise<number> {
    const state = await em.findOne(this.entities.subjectState, {
      where: { subject },
      select: { subject: true, tokenVersion: true },
    });
    return state?.tokenVersion ?? 0;
  }

  /**
   * Revokes the `excess` oldest live sessions of a subject, leaving out the
   * one being created (`except`, written already in this transaction), so
   * the new one fits under the cap. The login's `client` is what evicted them.
   */
  async evictOldestSessions(
    em: EntityManager,
    subject: string,
    excess: number,
    now: number,
    except: string,
    client: EventClient,
  ): Promise<RevocationEvent[]> {
    if (excess <= 0) return [];
    const oldest = await em.find(this.entities.session, {
      where: { subject, revokedAt: IsNull(), expiresAt: MoreThan(now), sessionId: Not(except) },
      select: { sessionId: true },
      order: { createdAt: 'ASC', sessionId: 'ASC' },
      take: excess,
    });
    const ids = oldest.map((s) => s.sessionId);
    await this.revokeSessions(em, ids, 'session_limit', now);
    return this.sessionsRevoked(em, subject, ids, 'session_limit', now, client);
  }

  /** The events of sessions of one subject this transaction revoked: one revocation event and one security event each. */
  async sessionsRevoked(
    em: EntityManager,
    subject: string,
    ids: string[],
    reason: RevokeReason,
    now: number,
    client: EventClient,
  ): Promise<RevocationEvent[]> {
    const events: RevocationEvent[] = [];
    for (const id of ids) events.push(await this.recordEvent(em, 'session', id, 0, now));
    await this.recordSecurity(
      em,
      ids.map((sessionId) => sessionEvent(subject, sessionId, reason, now, client)),
    );
    return events;
  }

  /** Returns how many of the sessions were live and are revoked now. */
  async revokeSessions(em: EntityManager, ids: string[], reason: RevokeReason, now: number): Promise<number> {
    let changed = 0;
    for (const part of chunks(ids)) {
      const result = await em.update(
        this.entities.session,
        { sessionId: In(part), revokedAt: IsNull() },
        { revokedAt: now, revokeReason: reason },
      );
      changed += result.affected ?? 0;
      await em.update(
        this.entities.tokenLog,
        { sessionId: In(part), revokedAt: IsNull() },
        { revokedAt: now, revokeReason: reason },
      );
    }
    return changed;
  }

  async recordEvent(
    em: EntityManager,
    kind: RevocationEvent['kind'],
    key: string,
    value: number,
    at: number,
  ): Promise<RevocationEvent> {
    const event = { kind, key, value, at };
    const result = await em.insert(this.entities.revocationEvent, event);
    return { ...event, seq: Number(result.identifiers[0]?.seq) };
  }

  /** Audit-trail rows, in the caller's transaction. */
  async recordSecurity(em: EntityManager, events: NewSecurityEvent[]): Promise<void> {
    for (const part of chunks(events, 100)) {
      await em
        .createQueryBuilder()
        .insert()
        .into(this.entities.securityEvent)
        .values(part)
        .updateEntity(false) // nobody reads the seq back: no RETURNING, no reload
        .execute();
    }
  }
}
