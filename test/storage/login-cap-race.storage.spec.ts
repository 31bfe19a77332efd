import 'reflect-metadata';
import { expect, it } from '@jest/globals';
import type { BeforeQueryEvent, DataSource, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import { eachDatabase, twoInstancesOn } from '../support/databases.js';
import { bootModule, entities } from '../support/module-app.js';
import { raceRounds } from '../support/races.js';
import { appForSuite } from '../support/suite-app.js';
import { sleep } from '../support/time.js';

const ROUNDS = raceRounds();
const CAP = 3;
const LOGINS = 8;

/**
 * Logins of one subject at once, past its cap (`maxSessionsPerSubject`).
 * Each login must count the live sessions the logins before it left, so the
 * subject ends every round at the cap, with one eviction per login past it.
 * On PostgreSQL a login is one statement that counts from its snapshot
 * (lib/storage/typeorm/postgres-statements.ts): a login that waited for
 * another one must see that the subject's row moved, and count again in a
 * transaction, and that transaction must move the row too, for the logins
 * that wait on it. Without either, a login that waited counts the sessions of
 * before the wait, and the subject ends the round past its cap.
 */
/** Holds the first COMMIT sent by another query runner than `except`, until released. */
class CommitGate implements EntitySubscriberInterface {
  private armed: { except: QueryRunner; reached: () => void; release: Promise<void> } | null = null;

  /** Arms the gate; `reached` resolves once a COMMIT waits at it. */
  arm(except: QueryRunner): { reached: Promise<void>; release: () => void } {
    let reached!: () => void;
    let release!: () => void;
    const atGate = new Promise<void>((resolve) => (reached = resolve));
    this.armed = { except, reached, release: new Promise<void>((resolve) => (release = resolve)) };
    return { reached: atGate, release };
  }

  async beforeQuery(event: BeforeQueryEvent): Promise<void> {
    const armed = this.armed;
    if (!armed || event.queryRunner === armed.except || !/^COMMIT/i.test(event.query)) return;
    this.armed = null;
    armed.reached();
    await armed.release;
  }
}

/**
 * Resolves once a statement waits for a row lock (checked every 10 ms, for
 * 10 s at most). MariaDB shows no lock wait for a locking read that waits in
 * its optimizer's lookup of a primary key: there, a locking read of the
 * subject's row still running is one that waits, since the row is held.
 */
async function someoneWaitsForALock(source: DataSource): Promise<void> {
  const query =
    source.options.type === 'postgres'
      ? "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
      : 'SELECT COUNT(*) AS n FROM information_schema.processlist' +
        " WHERE id <> CONNECTION_ID() AND command = 'Query' AND info LIKE '%jwt_subject_state%FOR UPDATE'";
  for (let i = 0; i < 1000; i++) {
    const [row] = (await source.query(query)) as Array<{ n: unknown }>;
    if (Number(row.n) > 0) return;
    await sleep(10);
  }
  throw new Error('no statement came to wait for a lock');
}

eachDatabase('logins racing at the session cap', (database) => {
  const db = database();
  const gate = new CommitGate();
  const m = appForSuite(async () => {
    const app = await bootModule(db.fresh(), { maxSessionsPerSubject: CAP });
    app.source.subscribers.push(gate);
    return app;
  });

  it(`8 logins of one subject at once leave it at 3 live sessions, each other one evicted once (${ROUNDS} rounds)`, async () => {
    const past: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const subject = `cap.race${round}`;
      // The subject's row exists: the racers take PostgreSQL's one-statement path.
      const first = await m.tokens.issue(subject);
      // Spread over a few milliseconds: some start while others wait, some while others run their transaction.
      const racers = await Promise.all(
        Array.from({ length: LOGINS }, (_, i) => sleep(i % 4).then(() => m.tokens.issue(subject))),
      );
      const live = (await m.tokens.listSessions(subject, { limit: 100 })).sessions.map((s) => s.id);
      if (live.length !== CAP) past.push(`round ${round}: ${live.length} live sessions`);
      const rows = await m.source.getRepository(entities.session).findBy({ subject });
      expect(rows).toHaveLength(LOGINS + 1);
      expect(rows.filter((row) => row.revokeReason === 'session_limit')).toHaveLength(LOGINS + 1 - live.length);
      // Every live session is one a login handed out.
      const handedOut = [first, ...racers].map((pair) => pair.sessionId);
      for (const id of live) expect(handedOut).toContain(id);
    }
    expect(past).toEqual([]);
  });

  // A transaction held open beside the app's needs a second connection: SQLite's driver has one.
  twoInstancesOn(db)(
    'a login that waited for another login counts its session: one that waited for a login in a transaction too',
    async () => {
      const subject = 'cap.waited';
      await m.tokens.issue(subject);
      // A stand-in for a login in flight: it writes the subject's row and a live session, and holds them.
      const standIn = m.source.createQueryRunner();
      await standIn.connect();
      await standIn.startTransaction();
      let a: Promise<unknown>;
      let b: Promise<unknown>;
      try {
        await standIn.manager.update(entities.subjectState, { subject }, { revokeReason: null });
        const now = Date.now();
        await standIn.manager.insert(entities.session, {
          sessionId: 'cap.waited.stand-in',
          subject,
          createdAt: now,
          lastSeenAt: now,
          expiresAt: now + 3_600_000,
          revokedAt: null,
          revokeReason: null,
          userAgent: null,
          ip: null,
        });
        // A counts from before the stand-in's session, and waits for its row lock.
        a = m.tokens.issue(subject);
        await someoneWaitsForALock(m.source);
        const held = gate.arm(standIn);
        await standIn.commitTransaction();
        // A saw the row move and ran its transaction: 2 live before it, 3 with it. It waits to commit.
        await held.reached;
        // B counts from before A's session, and waits for A's row lock.
        b = m.tokens.issue(subject);
        await someoneWaitsForALock(m.source);
        held.release();
      } finally {
        await standIn.release();
      }
      await Promise.all([a, b]);
      // B counted A's session too: 3 live before it, one evicted.
      const live = (await m.tokens.listSessions(subject, { limit: 100 })).sessions;
      expect(live).toHaveLength(CAP);
      const rows = await m.source.getRepository(entities.session).findBy({ subject });
      expect(rows.filter((row) => row.revokeReason === 'session_limit')).toHaveLength(1);
    },
  );
});
