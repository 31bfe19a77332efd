import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  InvalidTokenException,
  type RotationRequest,
  type RotationResult,
  type TokenEvent,
} from 'nestjs-jwt-revocation';
import { TypeOrmTokenStore } from 'nestjs-jwt-revocation/testing';
import type { DataSource } from 'typeorm';
import { eachDatabase, type TestDatabase } from '../support/databases.js';
import { bootModule, entities, type ModuleApp } from '../support/module-app.js';

/**
 * The TypeORM store, with a pause after a refresh found its token spent: a
 * test plays "a logout lands between the look-up and the reuse revoke" in
 * that order, every time.
 */
class PausingStore extends TypeOrmTokenStore {
  afterSpent?: () => Promise<void>;

  override async rotate(request: RotationRequest): Promise<RotationResult> {
    const result = await super.rotate(request);
    if (result.outcome === 'spent' && this.afterSpent) await this.afterSpent();
    return result;
  }
}

/** Issue 10, findings 7 and 8: a revocation is recorded, published and reported once, when something changed. */
eachDatabase('revocations change things once', (db: () => TestDatabase) => {
  let m: ModuleApp;
  let store: PausingStore;
  const events: TokenEvent[] = [];

  beforeAll(async () => {
    // No grace: a spent token presented again is reuse at once.
    m = await bootModule(
      db().fresh(),
      { refreshReuseGrace: 0 },
      {
        store: (source: DataSource) => (store = new PausingStore(source, entities)),
      },
    );
    m.events.subscribe((event) => void events.push(event));
  });

  afterAll(() => m?.close());

  const eventRows = () => m.source.getRepository(entities.revocationEvent).count();

  describe('revoking what is revoked already writes and publishes nothing', () => {
    it('a token, a session, an RFC 7009 revocation: one event row and one event each, however often', async () => {
      const a = await m.tokens.issue('once.ada');
      const b = await m.tokens.issue('once.ada');
      const c = await m.tokens.issue('once.ada');
      const rows = await eventRows();
      events.length = 0;
      for (let i = 0; i < 20; i++) {
        expect(await m.tokens.revoke(a.jti)).toBe(true);
        expect(await m.tokens.revokeSession(b.sessionId)).toBe(true);
        await m.tokens.revokeToken(c.refreshToken);
      }
      expect(await eventRows()).toBe(rows + 3);
      expect(events.map((e) => (e.type === 'revoked' ? e.scope : e.type)).sort()).toEqual([
        'session',
        'session',
        'token',
      ]);
    });

    it('revokeOtherSessions again revokes nothing more', async () => {
      const keep = await m.tokens.issue('once.bob');
      await m.tokens.issue('once.bob');
      expect(await m.tokens.revokeOtherSessions('once.bob', keep.sessionId)).toBe(1);
      const rows = await eventRows();
      expect(await m.tokens.revokeOtherSessions('once.bob', keep.sessionId)).toBe(0);
      expect(await eventRows()).toBe(rows);
    });
  });

  describe('refresh token reuse', () => {
    it('is no alarm when a logout ended the session between the refresh and its reuse revoke', async () => {
      const first = await m.tokens.issue('alarm.cleo');
      await m.tokens.refresh(first.refreshToken);
      events.length = 0;
      store.afterSpent = async () => {
        await m.tokens.revokeSession(first.sessionId, 'logout');
      };
      try {
        await expect(m.tokens.refresh(first.refreshToken)).rejects.toBeInstanceOf(InvalidTokenException);
      } finally {
        store.afterSpent = undefined;
      }
      expect(events.filter((e) => e.type === 'reuse_detected')).toEqual([]);
      expect(await m.tokens.findSession(first.sessionId)).toMatchObject({ revokeReason: 'logout' });
    });

    it('is an alarm, once, when the reuse is what ends the session', async () => {
      const first = await m.tokens.issue('alarm.dan');
      await m.tokens.refresh(first.refreshToken);
      events.length = 0;
      await expect(m.tokens.refresh(first.refreshToken)).rejects.toBeInstanceOf(InvalidTokenException);
      await expect(m.tokens.refresh(first.refreshToken)).rejects.toBeInstanceOf(InvalidTokenException);
      expect(events.filter((e) => e.type === 'reuse_detected')).toEqual([
        { type: 'reuse_detected', subject: 'alarm.dan', sessionId: first.sessionId, jti: expect.any(String) },
      ]);
      expect(await m.tokens.findSession(first.sessionId)).toMatchObject({ revokeReason: 'refresh_reuse' });
    });
  });
});
