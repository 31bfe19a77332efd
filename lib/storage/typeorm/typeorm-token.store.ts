import { createHash } from 'node:crypto';
import {
  In,
  IsNull,
  LessThan,
  LessThanOrEqual,
  MoreThan,
  Not,
  type DataSource,
  type EntityManager,
  type FindOptionsWhere,
  type QueryDeepPartialEntity,
  type QueryRunner,
} from 'typeorm';

import type { JwtRevocationEntitySet } from './entities/jwt-revocation.entities.js';
import type { RevokeReason } from '../../interfaces/revoke-reason.type.js';
import type { RevocationEvent } from '../../interfaces/revocation-event.interface.js';
import type { ArchivedTokenRecord, SessionRecord, SubjectStateRecord, TokenRecord } from '../../interfaces/token-record.interface.js';
import {
  TokenStore,
  type CreatedSession,
  type HistoryQuery,
  type NewSession,
  type PresentedToken,
  type SessionPageQuery,
  type SweepBatches,
  type RevocationSnapshot,
  type RevokedSession,
  type RevokedToken,
  type RotationRequest,
  type RotationResult,
} from '../token-store.interface.js';

/**
 * TypeORM's SQLite drivers run every query runner on one connection and do not
 * queue transactions: a second BEGIN while one is open fails ("cannot start a
 * transaction within a transaction"). Transactions on SQLite therefore take
 * turns, one data source at a time; the other databases run them in parallel.
 */
const sqliteTurns = new WeakMap<DataSource, Promise<unknown>>();

/** PostgreSQL deadlock or serialization failure, MySQL/MariaDB deadlock. */
function isDeadlock(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: string; errno?: number } } | null)?.driverError;
  return driverError?.code === '40P01' || driverError?.code === '40001' || driverError?.code === 'ER_LOCK_DEADLOCK' || driverError?.errno === 1213;
}

/** SQLite files being swept by this process (SQLite has one writer per file; other processes' batches cannot collide with ours). */
const sqliteSweeps = new Set<string>();

/** Thrown inside a refresh transaction that lost the race for its token, to roll it back. */
class RotationLost extends Error {}

/** Token rows as written: the subject's version is read in the writing transaction. */
function withVersion(tokens: Omit<TokenRecord, 'subjectVersion'>[], subjectVersion: number) {
  // TypeORM's deep-partial type cannot see through the JSON column's transformer.
  return tokens.map((token) => ({ ...token, subjectVersion })) as QueryDeepPartialEntity<TokenRecord>[];
}

/** Keeps IN (...) lists well under every database's parameter limit. */
const IN_CHUNK = 500;

function chunks<T>(items: T[], size = IN_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The default store: the host's TypeORM data source, on SQLite, PostgreSQL or
 * MariaDB. Lock order is always session row, then token rows, so a refresh and
 * a revoke of the same session serialize instead of deadlocking.
 */
export class TypeOrmTokenStore extends TokenStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly entities: JwtRevocationEntitySet,
  ) {
    super();
  }

  /**
   * A transaction; on SQLite, after the one before it has finished. A
   * deadlock victim (concurrent revokes of one subject on MariaDB take gap
   * locks in either order) is rolled back whole by the database, so running
   * it again is safe.
   */
  private async transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.inTurn(() => this.dataSource.transaction(work));
      } catch (error) {
        if (attempt >= 5 || !isDeadlock(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, attempt * 5 + Math.random() * 10));
      }
    }
  }

  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.dataSource.options.type !== 'better-sqlite3') return work();
    const previous = sqliteTurns.get(this.dataSource) ?? Promise.resolve();
    const turn = previous.then(work, work);
    sqliteTurns.set(this.dataSource, turn.catch(() => undefined));
    return turn;
  }

  async createSession({ session, tokens, epoch, maxSessions }: NewSession): Promise<CreatedSession> {
    return this.transaction(async (em): Promise<CreatedSession> => {
      // Held until commit: a subject-wide revocation either committed before
      // (this login sees its epoch and version) or waits and then sees this session.
      const state = await this.lockSubject(em, session.subject);
      if (epoch !== null && state.epoch !== epoch) return { created: false };
      const evicted = await this.evictOldestSessions(em, session.subject, maxSessions - 1, session.createdAt);
      await em.insert(this.entities.session, session);
      await em.insert(this.entities.tokenLog, withVersion(tokens, state.tokenVersion));
      return { created: true, subjectVersion: state.tokenVersion, evicted };
    });
  }

  async subjectEpoch(subject: string): Promise<number> {
    const row = await this.dataSource.manager.findOne(this.entities.subjectState, { where: { subject }, select: { subject: true, epoch: true } });
    return row?.epoch ?? 0;
  }

  async rotate(request: RotationRequest): Promise<RotationResult> {
    // A call that loses the race for a token rolls back and looks again: it
    // then sees the token spent by the winner, with the winner's successors.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.rotateInTransaction(request);
      } catch (error) {
        if (!(error instanceof RotationLost) || attempt === 3) {
          if (error instanceof RotationLost) return { outcome: 'invalid' };
          throw error;
        }
      }
    }
  }

  findRefreshToken(tokenHash: string): Promise<TokenRecord | null> {
    return this.dataSource.manager.findOne(this.entities.tokenLog, { where: { tokenHash, tokenType: 'refresh' } });
  }

  private rotateInTransaction(request: RotationRequest): Promise<RotationResult> {
    const { tokenLog, session } = this.entities;
    return this.transaction(async (em): Promise<RotationResult> => {
      const presented = await em.findOne(tokenLog, { where: { tokenHash: request.tokenHash, tokenType: 'refresh' } });
      if (!presented) return { outcome: 'invalid' };
      const current = await em.findOneBy(session, { sessionId: presented.sessionId });
      if (!current) return { outcome: 'invalid' };
      // Spent comes before expired: a stolen token replayed after its expiry is still evidence of theft.
      if (presented.spentAt !== null) {
        const successors = await em.find(tokenLog, { where: { parentJti: presented.jti } });
        return { outcome: 'spent', presented, successors, session: current };
      }
      if (presented.revokedAt !== null || presented.expiresAt <= request.now) return { outcome: 'invalid' };
      // Issued under an older token version: it outlived a logout everywhere it raced, and refreshes nothing.
      const version = await this.subjectVersion(em, presented.subject);
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
      const spent = await em.update(tokenLog, { jti: presented.jti, spentAt: IsNull(), revokedAt: IsNull() }, { spentAt: request.now });
      // Lost the race: roll back the session update made above.
      if (!spent.affected) throw new RotationLost();
      await em.insert(tokenLog, withVersion(next, version));
      return { outcome: 'rotated', subjectVersion: version };
    });
  }

  async revokeToken(jti: string, reason: RevokeReason, now: number): Promise<RevokedToken | null> {
    const { tokenLog } = this.entities;
    return this.transaction(async (em) => {
      const result = await em.update(tokenLog, { jti, revokedAt: IsNull() }, { revokedAt: now, revokeReason: reason });
      const row = await em.findOne(tokenLog, {
        where: { jti },
        select: { jti: true, subject: true, sessionId: true, tokenType: true, expiresAt: true },
      });
      if (!row) return null;
      // Revoked already: no event, so a client repeating the call writes and publishes nothing.
      const changed = (result.affected ?? 0) > 0;
      const event = changed && row.tokenType === 'access' ? await this.recordEvent(em, 'token', jti, row.expiresAt, now) : null;
      return { jti: row.jti, subject: row.subject, sessionId: row.sessionId, tokenType: row.tokenType, expiresAt: row.expiresAt, changed, event };
    });
  }

  async revokeSession(sessionId: string, reason: RevokeReason, now: number): Promise<RevokedSession | null> {
    return this.transaction(async (em) => {
      const changed = await this.revokeSessions(em, [sessionId], reason, now);
      const session = await em.findOneBy(this.entities.session, { sessionId });
      if (!session) return null;
      return { session, event: changed > 0 ? await this.recordEvent(em, 'session', sessionId, 0, now) : null };
    });
  }

  async revokePresented(token: PresentedToken, reason: RevokeReason, now: number): Promise<RevocationEvent | null> {
    return this.transaction(async (em) => {
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
      const changed = await this.revokeSessions(em, [token.sessionId], reason, now);
      return changed > 0 ? this.recordEvent(em, 'session', token.sessionId, 0, now) : null;
    });
  }

  async revokeSubject(subject: string, reason: RevokeReason, now: number): Promise<{ version: number; event: RevocationEvent }> {
    const { session, tokenLog } = this.entities;
    return this.transaction(async (em) => {
      await this.raiseSubject(em, subject, { tokenVersion: () => 'token_version + 1', epoch: () => 'epoch + 1', revokedAt: now, revokeReason: reason });
      await em.update(session, { subject, revokedAt: IsNull() }, { revokedAt: now, revokeReason: reason });
      await em.update(
        tokenLog,
        { subject, revokedAt: IsNull(), expiresAt: MoreThan(now) },
        { revokedAt: now, revokeReason: reason },
      );
      const version = await this.subjectVersion(em, subject);
      return { version, event: await this.recordEvent(em, 'subject', subject, version, now) };
    });
  }

  async revokeOtherSessions(subject: string, keepSessionId: string, reason: RevokeReason, now: number): Promise<RevocationEvent[]> {
    return this.transaction(async (em) => {
      // The subject's row first, as logins take it: a login committed before
      // is listed below; one after sees the new epoch (and refuses, if given the old).
      await this.raiseSubject(em, subject, { epoch: () => 'epoch + 1' });
      const sessions = await em.find(this.entities.session, {
        where: { subject, revokedAt: IsNull(), sessionId: Not(keepSessionId) },
        select: { sessionId: true },
        lock: this.rowLock,
      });
      const ids = sessions.map((s) => s.sessionId);
      await this.revokeSessions(em, ids, reason, now);
      const events: RevocationEvent[] = [];
      for (const id of ids) events.push(await this.recordEvent(em, 'session', id, 0, now));
      return events;
    });
  }

  loadEvents(since: number): Promise<RevocationEvent[]> {
    return this.dataSource.manager.find(this.entities.revocationEvent, { where: { at: MoreThan(since) }, order: { seq: 'ASC' } });
  }

  async loadRevocations(now: number, since: number): Promise<RevocationSnapshot> {
    const em = this.dataSource.manager;
    const tokens = await em
      .createQueryBuilder(this.entities.tokenLog, 't')
      .select('t.jti', 'jti')
      .addSelect('t.expiresAt', 'exp')
      .where({ tokenType: 'access', revokedAt: Not(IsNull()), expiresAt: MoreThan(now) })
      .getRawMany<{ jti: string; exp: string | number }>();
    const sessions = await em.find(this.entities.session, {
      where: { revokedAt: MoreThan(since) },
      select: { sessionId: true, revokedAt: true },
    });
    const subjects = await em.find(this.entities.subjectState, {
      where: { revokedAt: MoreThan(since) },
    });
    return {
      tokens: tokens.map((t) => [t.jti, Number(t.exp)]),
      sessions: sessions.map((s) => [s.sessionId, s.revokedAt as number]),
      subjects: subjects.map((s) => [s.subject, s.tokenVersion, s.revokedAt as number]),
    };
  }

  async loadActiveAccessTokens(now: number): Promise<Array<[string, number]>> {
    const rows = await this.dataSource.manager
      .createQueryBuilder(this.entities.tokenLog, 't')
      .select('t.jti', 'jti')
      .addSelect('t.expiresAt', 'exp')
      .where({ tokenType: 'access', revokedAt: IsNull(), expiresAt: MoreThan(now) })
      .getRawMany<{ jti: string; exp: string | number }>();
    return rows.map((r) => [r.jti, Number(r.exp)]);
  }

  async findActiveAccessToken(jti: string, now: number): Promise<number | null> {
    const row = await this.dataSource.manager.findOne(this.entities.tokenLog, {
      where: { jti, tokenType: 'access', revokedAt: IsNull(), expiresAt: MoreThan(now) },
      select: { jti: true, expiresAt: true },
    });
    return row ? row.expiresAt : null;
  }

  findToken(jti: string): Promise<TokenRecord | null> {
    return this.dataSource.manager.findOneBy(this.entities.tokenLog, { jti });
  }

  findSession(sessionId: string): Promise<SessionRecord | null> {
    return this.dataSource.manager.findOneBy(this.entities.session, { sessionId });
  }

  listActiveSessions(subject: string, now: number, page: SessionPageQuery): Promise<SessionRecord[]> {
    const live: FindOptionsWhere<SessionRecord> = { subject, revokedAt: IsNull(), expiresAt: MoreThan(now) };
    const { after } = page;
    // Keyset paging: stable while sessions come and go, and no OFFSET scan.
    const where = after
      ? [
          { ...live, createdAt: LessThan(after.createdAt) },
          { ...live, createdAt: after.createdAt, sessionId: LessThan(after.sessionId) },
        ]
      : live;
    return this.dataSource.manager.find(this.entities.session, { where, order: { createdAt: 'DESC', sessionId: 'DESC' }, take: page.limit });
  }

  async touchSessions(lastSeen: Map<string, number>): Promise<void> {
    // One UPDATE per distinct time (seconds are what the guard records), so a
    // busy minute costs a handful of statements, not one per session.
    const byTime = new Map<number, string[]>();
    for (const [sessionId, at] of lastSeen) {
      const ids = byTime.get(at);
      if (ids) ids.push(sessionId);
      else byTime.set(at, [sessionId]);
    }
    for (const [at, ids] of byTime) {
      for (const part of chunks(ids)) {
        await this.dataSource.manager.update(
          this.entities.session,
          { sessionId: In(part), lastSeenAt: LessThan(at) },
          { lastSeenAt: at },
        );
      }
    }
  }

  async sweep<T>(work: (batches: SweepBatches) => Promise<T>): Promise<T | null> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      if (!(await this.lockSweep(runner))) return null;
      try {
        return await work({
          archive: (cutoff, now, limit) => this.inTransaction(runner, (em) => this.archiveBatch(runner, em, cutoff, now, limit)),
          purgeArchive: (before, limit) => this.inTransaction(runner, (em) => this.purgeArchiveBatch(em, before, limit)),
          purgeSessions: (cutoff, limit) => this.inTransaction(runner, (em) => this.purgeSessionBatch(em, cutoff, limit)),
          purgeEvents: (before, limit) => this.inTransaction(runner, (em) => this.purgeEventBatch(em, before, limit)),
        });
      } finally {
        await this.unlockSweep(runner);
      }
    } finally {
      await runner.release();
    }
  }

  countExpired(cutoff: number): Promise<number> {
    return this.dataSource.manager.count(this.entities.tokenLog, { where: { expiresAt: LessThan(cutoff) } });
  }

  async findHistory(query: HistoryQuery): Promise<Array<TokenRecord & { archivedAt: number | null }>> {
    const base: FindOptionsWhere<TokenRecord> = {};
    if (query.subject !== undefined) base.subject = query.subject;
    if (query.sessionId !== undefined) base.sessionId = query.sessionId;
    let where: FindOptionsWhere<TokenRecord>[] = [base];
    if (query.validAt !== undefined) {
      const at = query.validAt;
      const alive = { ...base, issuedAt: LessThanOrEqual(at), expiresAt: MoreThan(at) };
      where = [
        { ...alive, revokedAt: IsNull() },
        { ...alive, revokedAt: MoreThan(at) },
      ];
    }
    const options = { where, order: { issuedAt: 'DESC' as const, jti: 'ASC' as const }, take: query.limit };
    const [live, archived] = await Promise.all([
      this.dataSource.manager.find(this.entities.tokenLog, options),
      this.dataSource.manager.find(this.entities.tokenArchive, options as never) as Promise<ArchivedTokenRecord[]>,
    ]);
    return [...live.map((row) => ({ ...row, archivedAt: null })), ...archived]
      .sort((a, b) => b.issuedAt - a.issuedAt || a.jti.localeCompare(b.jti))
      .slice(0, query.limit);
  }

  /**
   * One batch: copy and delete by the same keys in one transaction, so a
   * crash at any point leaves each row in exactly one table. Spent refresh
   * rows of live sessions stay: reuse detection still needs them.
   */
  private async archiveBatch(runner: QueryRunner, em: EntityManager, cutoff: number, now: number, limit: number): Promise<number> {
    const { tokenLog, tokenArchive, session } = this.entities;
    const stillNeeded = em
      .createQueryBuilder()
      .subQuery()
      .select('1')
      .from(session, 's')
      .where('s.sessionId = l.session_id')
      .andWhere('s.revokedAt IS NULL')
      .andWhere('s.expiresAt > :now')
      .getQuery();
    const due = await em
      .createQueryBuilder(tokenLog, 'l')
      .select('l.jti', 'jti')
      .where('l.expiresAt < :cutoff', { cutoff })
      .andWhere(`NOT (l.tokenType = 'refresh' AND l.spentAt IS NOT NULL AND EXISTS ${stillNeeded})`)
      .setParameter('now', now)
      .orderBy('l.expiresAt', 'ASC')
      .limit(limit)
      .getRawMany<{ jti: string }>();
    if (due.length === 0) return 0;
    const jtis = due.map((row) => row.jti);
    const logColumns = this.dataSource.getMetadata(tokenLog).columns;
    const archiveMeta = this.dataSource.getMetadata(tokenArchive);
    const escape = (name: string) => this.dataSource.driver.escape(name);
    const copy = logColumns.reduce(
      (qb, column, i) => (i === 0 ? qb.select(`l.${column.propertyName}`, `c${i}`) : qb.addSelect(`l.${column.propertyName}`, `c${i}`)),
      em.createQueryBuilder(tokenLog, 'l'),
    );
    // The archive time goes in as a literal: it is our own integer, and a bare
    // parameter in a SELECT list has no type PostgreSQL could infer.
    const [select, parameters] = copy
      .addSelect(String(Math.trunc(now)), 'archived_at')
      .where('l.jti IN (:...jtis)', { jtis })
      .getQueryAndParameters();
    const targets = [
      ...logColumns.map((column) => escape(archiveMeta.findColumnWithPropertyName(column.propertyName)!.databaseName)),
      escape(archiveMeta.findColumnWithPropertyName('archivedAt')!.databaseName),
    ];
    await runner.query(`INSERT INTO ${escape(archiveMeta.tableName)} (${targets.join(', ')}) ${select}`, parameters);
    await em.createQueryBuilder().delete().from(tokenLog).where({ jti: In(jtis) }).execute();
    return jtis.length;
  }

  private async purgeArchiveBatch(em: EntityManager, before: number, limit: number): Promise<number> {
    const rows = await em.find(this.entities.tokenArchive, { where: { expiresAt: LessThan(before) }, select: { jti: true }, take: limit });
    if (rows.length === 0) return 0;
    await em.delete(this.entities.tokenArchive, { jti: In(rows.map((row) => row.jti)) });
    return rows.length;
  }

  private async purgeSessionBatch(em: EntityManager, cutoff: number, limit: number): Promise<number> {
    const rows = await em.find(this.entities.session, { where: { expiresAt: LessThan(cutoff) }, select: { sessionId: true }, take: limit });
    if (rows.length === 0) return 0;
    await em.delete(this.entities.session, { sessionId: In(rows.map((row) => row.sessionId)) });
    return rows.length;
  }

  private async purgeEventBatch(em: EntityManager, before: number, limit: number): Promise<number> {
    const rows = await em.find(this.entities.revocationEvent, { where: { at: LessThan(before) }, select: { seq: true }, take: limit, order: { seq: 'ASC' } });
    if (rows.length === 0) return 0;
    await em.delete(this.entities.revocationEvent, { seq: In(rows.map((row) => row.seq)) });
    return rows.length;
  }

  private inTransaction<T>(runner: QueryRunner, work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.inTurn(() => this.runnerTransaction(runner, work));
  }

  private async runnerTransaction<T>(runner: QueryRunner, work: (em: EntityManager) => Promise<T>): Promise<T> {
    await runner.startTransaction();
    try {
      const result = await work(runner.manager);
      await runner.commitTransaction();
      return result;
    } catch (error) {
      await runner.rollbackTransaction();
      throw error;
    }
  }

  /**
   * One sweeper at a time across instances: a PostgreSQL advisory lock or a
   * MariaDB named lock, both tied to this connection (a killed sweeper frees
   * it); SQLite has one writer per file, so a flag for this process will do.
   */
  private async lockSweep(runner: QueryRunner): Promise<boolean> {
    const type = this.dataSource.options.type;
    if (type === 'postgres') {
      const [row] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [this.sweepLockKey()]);
      return row.locked === true;
    }
    if (type === 'mysql' || type === 'mariadb') {
      const [row] = await runner.query('SELECT GET_LOCK(?, 0) AS locked', [this.sweepLockName()]);
      return Number(row.locked) === 1;
    }
    const file = String((this.dataSource.options as { database?: unknown }).database);
    if (sqliteSweeps.has(file)) return false;
    sqliteSweeps.add(file);
    return true;
  }

  private async unlockSweep(runner: QueryRunner): Promise<void> {
    const type = this.dataSource.options.type;
    if (type === 'postgres') await runner.query('SELECT pg_advisory_unlock($1)', [this.sweepLockKey()]);
    else if (type === 'mysql' || type === 'mariadb') await runner.query('SELECT RELEASE_LOCK(?)', [this.sweepLockName()]);
    else sqliteSweeps.delete(String((this.dataSource.options as { database?: unknown }).database));
  }

  /** Named after the log table, so two token logs in one database sweep independently. */
  private sweepLockName(): string {
    return `jwt-revocation-sweep:${this.dataSource.getMetadata(this.entities.tokenLog).tableName}`.slice(0, 64);
  }

  private sweepLockKey(): string {
    return createHash('sha256').update(this.sweepLockName()).digest().readBigInt64BE(0).toString();
  }

  private async recordEvent(em: EntityManager, kind: RevocationEvent['kind'], key: string, value: number, at: number): Promise<RevocationEvent> {
    const event = { kind, key, value, at };
    const result = await em.insert(this.entities.revocationEvent, event);
    return { ...event, seq: Number(result.identifiers[0]?.seq) };
  }

  /** Row locks on PostgreSQL and MariaDB; SQLite's transactions take turns already (see inTurn). */
  private get rowLock(): { mode: 'pessimistic_write' } | undefined {
    const type = this.dataSource.options.type;
    return type === 'postgres' || type === 'mysql' || type === 'mariadb' ? { mode: 'pessimistic_write' } : undefined;
  }

  private ensureSubject(em: EntityManager, subject: string): Promise<unknown> {
    return em
      .createQueryBuilder()
      .insert()
      .into(this.entities.subjectState)
      .values({ subject, tokenVersion: 0, epoch: 0, revokedAt: null, revokeReason: null })
      .orIgnore()
      .execute();
  }

  /**
   * Raises counters of the subject's row in place (the increment happens in
   * the database, so concurrent calls all count), creating the row first for
   * a subject never seen. The update locks the row until commit, as logins
   * do (see createSession). Updating before inserting keeps MariaDB from
   * taking the shared lock of a duplicate insert, which deadlocks with a login.
   */
  private async raiseSubject(em: EntityManager, subject: string, set: QueryDeepPartialEntity<SubjectStateRecord>): Promise<void> {
    const update = () => em.createQueryBuilder().update(this.entities.subjectState).set(set).where({ subject }).execute();
    if ((await update()).affected) return;
    await this.ensureSubject(em, subject);
    await update();
  }

  /** The subject's row, locked until commit (created first for a subject never seen). */
  private async lockSubject(em: EntityManager, subject: string): Promise<{ tokenVersion: number; epoch: number }> {
    const read = () =>
      em.findOne(this.entities.subjectState, { where: { subject }, select: { subject: true, tokenVersion: true, epoch: true }, lock: this.rowLock });
    // Read first: most logins are of subjects seen before, and skip the insert.
    const row = (await read()) ?? (await this.ensureSubject(em, subject), await read());
    if (!row) throw new Error(`subject state row of a new subject could not be created`);
    return row;
  }

  /** Revokes the oldest live sessions of a subject beyond `keep`, so a new one fits under the cap. */
  private async evictOldestSessions(em: EntityManager, subject: string, keep: number, now: number): Promise<RevocationEvent[]> {
    const live = { subject, revokedAt: IsNull(), expiresAt: MoreThan(now) };
    const count = await em.count(this.entities.session, { where: live });
    if (count <= keep) return [];
    const oldest = await em.find(this.entities.session, {
      where: live,
      select: { sessionId: true },
      order: { createdAt: 'ASC', sessionId: 'ASC' },
      take: count - keep,
    });
    const ids = oldest.map((s) => s.sessionId);
    await this.revokeSessions(em, ids, 'session_limit', now);
    const events: RevocationEvent[] = [];
    for (const id of ids) events.push(await this.recordEvent(em, 'session', id, 0, now));
    return events;
  }

  private async subjectVersion(em: EntityManager, subject: string): Promise<number> {
    const state = await em.findOne(this.entities.subjectState, {
      where: { subject },
      select: { subject: true, tokenVersion: true },
    });
    return state?.tokenVersion ?? 0;
  }

  /** Returns how many of the sessions were live and are revoked now. */
  private async revokeSessions(em: EntityManager, ids: string[], reason: RevokeReason, now: number): Promise<number> {
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
}
