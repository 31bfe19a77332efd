import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ServiceUnavailableException } from '@nestjs/common';
import { InvalidTokenException } from 'nestjs-jwt-revocation';
import type { AfterQueryEvent, BeforeQueryEvent, DataSource, EntitySubscriberInterface, UpdateEvent } from 'typeorm';
import { eachDatabase } from '../support/databases.js';
import { testLogs } from '../support/logs.js';
import { bootModule, entities, type ModuleApp } from '../support/module-app.js';
import { sha256 } from '../support/token-rows.js';

testLogs.expect(/^token store failed: the database went away mid-refresh$/);

/** The spent time the stand-in winner writes: no real refresh writes it. */
const WINNER_SPENT_AT = 1_000;

/** PostgreSQL's spend: one statement outside a transaction (lib/storage/typeorm/postgres-statements.ts). */
const ONE_STATEMENT_SPEND = /^WITH s AS \(SELECT 1 FROM \W?jwt_session\W? .* SET \W?spent_at\W? = /s;

/**
 * A refresh loses its token when another call spends or revokes it between
 * the read and the spend; the store then writes nothing and looks again (at
 * most three times). SQLite runs one writer, so no real race reaches that
 * path there, and on PostgreSQL and MariaDB a race reaches it only sometimes.
 * This hook plays the loser, every time and on every database: just before
 * the store's spend of a refresh token, it spends the token itself, so the
 * spend finds nothing to change. On SQLite and MariaDB it does so in the
 * refresh's transaction, whose rollback undoes the stand-in's spend too; on
 * PostgreSQL, whose spend is one statement of its own, it commits its spend
 * before that statement and puts the token back after it. Either way the
 * next attempt finds the token as it was.
 */
class LoseTheSpend implements EntitySubscriberInterface {
  /** How many attempts lose: each one finds this token spent first by the stand-in. */
  losing = 0;
  tokenHash = '';
  /** Thrown at the spend instead, once: a failure that is not a lost race. */
  failWith: Error | undefined;
  /** Every spend the store attempted. */
  attempts = 0;
  /** The data source the stand-in writes through on PostgreSQL (its own connection). */
  source: DataSource | undefined;
  private inside = false;
  private putBack = false;

  async beforeUpdate(event: UpdateEvent<Record<string, unknown>>): Promise<void> {
    if (this.inside || event.metadata.name !== entities.tokenLog.options.name) return;
    if (!event.entity || !('spentAt' in event.entity)) return;
    if (this.spendFirst()) await this.standIn(event.manager, WINNER_SPENT_AT);
  }

  async beforeQuery(event: BeforeQueryEvent): Promise<void> {
    if (this.inside || !ONE_STATEMENT_SPEND.test(event.query)) return;
    if (!this.spendFirst()) return;
    await this.standIn(this.source!.manager, WINNER_SPENT_AT);
    this.putBack = true;
  }

  async afterQuery(_event: AfterQueryEvent): Promise<void> {
    if (!this.putBack) return;
    this.putBack = false;
    await this.standIn(this.source!.manager, null);
  }

  /** Counts a spend; throws the failure it was given, or says whether this attempt loses. */
  private spendFirst(): boolean {
    this.attempts++;
    if (this.failWith) {
      const error = this.failWith;
      this.failWith = undefined;
      throw error;
    }
    if (this.losing === 0) return false;
    this.losing--;
    return true;
  }

  private async standIn(manager: DataSource['manager'], spentAt: number | null): Promise<void> {
    this.inside = true;
    try {
      await manager.update(entities.tokenLog, { tokenHash: this.tokenHash }, { spentAt });
    } finally {
      this.inside = false;
    }
  }

  reset(): void {
    this.losing = 0;
    this.tokenHash = '';
    this.failWith = undefined;
    this.attempts = 0;
    this.putBack = false;
  }
}

eachDatabase('refresh that loses its token to a concurrent call', (database) => {
  let m: ModuleApp;
  const hook = new LoseTheSpend();

  beforeAll(async () => {
    m = await bootModule(database().fresh());
    hook.source = m.source;
    m.source.subscribers.push(hook);
  });
  afterEach(() => hook.reset());
  afterAll(async () => {
    await m?.close();
  });

  const refreshRow = (token: string) =>
    m.source.getRepository(entities.tokenLog).findOneByOrFail({ tokenHash: sha256(token) });
  const sessionRow = (sessionId: string) => m.source.getRepository(entities.session).findOneByOrFail({ sessionId });
  const rowCount = (sessionId: string) => m.source.getRepository(entities.tokenLog).countBy({ sessionId });

  it('the lost attempt leaves nothing written and the refresh tries again: it succeeds, and the token is spent by it, not by the lost attempt', async () => {
    const first = await m.tokens.issue('lost.one', {}, { userAgent: 'UA/first', ip: '10.0.0.1' });
    hook.tokenHash = sha256(first.refreshToken);
    hook.losing = 1;
    const before = Date.now();
    const next = await m.tokens.refresh(first.refreshToken, { userAgent: 'UA/next', ip: '10.0.0.2' });
    expect(hook.attempts).toBe(2);
    expect(next.sessionId).toBe(first.sessionId);
    const spent = await refreshRow(first.refreshToken);
    // The stand-in's spend is gone with the attempt that lost.
    expect(spent.spentAt).toBeGreaterThanOrEqual(before);
    expect((await refreshRow(next.refreshToken)).parentJti).toBe(spent.jti);
    // One new pair, from the attempt that won: the lost one wrote none.
    expect(await rowCount(first.sessionId)).toBe(4);
    expect(await sessionRow(first.sessionId)).toMatchObject({ userAgent: 'UA/next', ip: '10.0.0.2' });
  });

  it('tries three times in all: two lost attempts, then the third refreshes', async () => {
    const first = await m.tokens.issue('lost.two');
    hook.tokenHash = sha256(first.refreshToken);
    hook.losing = 2;
    const next = await m.tokens.refresh(first.refreshToken);
    expect(hook.attempts).toBe(3);
    expect((await refreshRow(next.refreshToken)).parentJti).toBe((await refreshRow(first.refreshToken)).jti);
    expect(await rowCount(first.sessionId)).toBe(4);
  });

  it('after three lost attempts the refresh is refused as invalid (401), and nothing it did stays written', async () => {
    const first = await m.tokens.issue('lost.three', {}, { userAgent: 'UA/first', ip: '10.0.0.1' });
    const session = await sessionRow(first.sessionId);
    hook.tokenHash = sha256(first.refreshToken);
    hook.losing = 5;
    await expect(m.tokens.refresh(first.refreshToken, { userAgent: 'UA/next', ip: '10.0.0.2' })).rejects.toBeInstanceOf(
      InvalidTokenException,
    );
    expect(hook.attempts).toBe(3);
    expect(hook.losing).toBe(2);
    // No attempt left a write: the token unspent, no new pair, the session row untouched.
    expect((await refreshRow(first.refreshToken)).spentAt).toBeNull();
    expect(await rowCount(first.sessionId)).toBe(2);
    expect(await sessionRow(first.sessionId)).toEqual(session);
    // Not a reuse: the token was never spent, and refreshes once nothing takes it first.
    hook.reset();
    const next = await m.tokens.refresh(first.refreshToken);
    expect(hook.attempts).toBe(1);
    expect(next.sessionId).toBe(first.sessionId);
  });

  it('a failure that is not a lost race is not retried: the caller gets a 503 after one attempt, nothing written', async () => {
    const first = await m.tokens.issue('lost.error');
    const session = await sessionRow(first.sessionId);
    hook.failWith = new Error('the database went away mid-refresh');
    await expect(m.tokens.refresh(first.refreshToken)).rejects.toBeInstanceOf(ServiceUnavailableException);
    expect(hook.attempts).toBe(1);
    expect(testLogs.take(/the database went away/).map((line) => line.level)).toEqual(['error']);
    expect((await refreshRow(first.refreshToken)).spentAt).toBeNull();
    expect(await rowCount(first.sessionId)).toBe(2);
    expect(await sessionRow(first.sessionId)).toEqual(session);
  });

  describe('a refresh token whose rows contradict each other is refused before any write', () => {
    // Rows the library itself does not leave behind (each revocation writes the
    // session, its tokens and the subject's version together), but a restore, a
    // hand edit or an older version might: the store checks each on its own.
    async function expectRefusedUnwritten(refreshToken: string, sessionId: string) {
      const before = await m.source.getRepository(entities.session).findOneBy({ sessionId });
      await expect(m.tokens.refresh(refreshToken)).rejects.toBeInstanceOf(InvalidTokenException);
      expect(hook.attempts).toBe(0);
      expect((await refreshRow(refreshToken)).spentAt).toBeNull();
      expect(await rowCount(sessionId)).toBe(2);
      expect(await m.source.getRepository(entities.session).findOneBy({ sessionId })).toEqual(before);
    }

    it('its session row is gone: a 401, not a 503', async () => {
      const first = await m.tokens.issue('contradicts.session');
      await m.source.getRepository(entities.session).delete({ sessionId: first.sessionId });
      await expectRefusedUnwritten(first.refreshToken, first.sessionId);
    });

    it('the token row is revoked while its session lives', async () => {
      const first = await m.tokens.issue('contradicts.token');
      await m.source
        .getRepository(entities.tokenLog)
        .update({ tokenHash: sha256(first.refreshToken) }, { revokedAt: Date.now(), revokeReason: 'logout' });
      await expectRefusedUnwritten(first.refreshToken, first.sessionId);
    });

    it("the token was issued under an older token version than the subject's", async () => {
      const first = await m.tokens.issue('contradicts.version');
      await m.source
        .getRepository(entities.subjectState)
        .increment({ subject: 'contradicts.version' }, 'tokenVersion', 1);
      await expectRefusedUnwritten(first.refreshToken, first.sessionId);
    });
  });
});
