import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  InvalidTokenException,
  type IssuedTokens,
  type RotationRequest,
  type RotationResult,
  type TokenEvent,
} from 'nestjs-jwt-revocation';
import { TypeOrmTokenStore } from 'nestjs-jwt-revocation/testing';
import type { DataSource } from 'typeorm';
import { eachDatabase, type TestDatabase } from '../support/databases.js';
import { decodePart } from '../support/forge.js';
import { bootModule, claimsOf, entities, type ModuleApp } from '../support/module-app.js';
import { raceRounds } from '../support/races.js';
import { sleep } from '../support/time.js';
import { backdateSpend, sha256 } from '../support/token-rows.js';

/**
 * The TypeORM store with a one-shot hook before and after a refresh's
 * transaction: a test plays "the revoke lands first" and "the refresh commits
 * first, the revoke lands before its answer" in that order, every time.
 */
class OrderedStore extends TypeOrmTokenStore {
  beforeRotate?: () => Promise<unknown>;
  afterRotate?: (result: RotationResult) => Promise<unknown>;

  override async rotate(request: RotationRequest): Promise<RotationResult> {
    const before = this.beforeRotate;
    this.beforeRotate = undefined;
    if (before) await before();
    const result = await super.rotate(request);
    const after = this.afterRotate;
    this.afterRotate = undefined;
    if (after) await after(result);
    return result;
  }
}

const ROUNDS = raceRounds();

eachDatabase('TokenLogService', (database) => {
  let db: TestDatabase;
  let m: ModuleApp;
  let store: OrderedStore;
  const seen: TokenEvent[] = [];

  beforeAll(async () => {
    db = database();
    m = await bootModule(
      db.fresh(),
      {},
      { store: (source: DataSource) => (store = new OrderedStore(source, entities)) },
    );
    m.events.subscribe((event) => void seen.push(event));
  });
  afterAll(async () => {
    await m?.close();
  });

  const rowsOf = (sessionId: string) => m.source.getRepository(entities.tokenLog).find({ where: { sessionId } });

  describe('issue', () => {
    it('writes the access and refresh rows before returning, and stores only a hash of the refresh token', async () => {
      const issued = await m.tokens.issue('svc-alice', { role: 'admin' }, { userAgent: 'UA/1', ip: '10.0.0.1' });
      expect(issued).toMatchObject({
        expiresIn: 900,
        refreshExpiresIn: expect.any(Number),
        sessionId: expect.any(String),
        jti: expect.any(String),
      });
      const rows = await rowsOf(issued.sessionId);
      expect(rows.map((r) => r.tokenType).sort()).toEqual(['access', 'refresh']);
      const refresh = rows.find((r) => r.tokenType === 'refresh')!;
      expect(refresh.tokenHash).toBe(sha256(issued.refreshToken));
      const dump = JSON.stringify(await m.source.query('SELECT * FROM jwt_token_log'));
      expect(dump).not.toContain(issued.refreshToken);
      expect(decodePart(issued.accessToken, 0)).toEqual({ alg: 'HS256', typ: 'at+jwt' });
      expect(claimsOf(issued.accessToken)).toMatchObject({
        sub: 'svc-alice',
        jti: issued.jti,
        sid: issued.sessionId,
        ver: 0,
        role: 'admin',
      });
      expect(rows.find((r) => r.tokenType === 'access')).toMatchObject({
        claims: { role: 'admin' },
        userAgent: 'UA/1',
        ip: '10.0.0.1',
      });
      expect(seen).toContainEqual({
        type: 'issued',
        subject: 'svc-alice',
        sessionId: issued.sessionId,
        jti: issued.jti,
      });
    });

    it('refuses reserved claims and bad subjects', async () => {
      await expect(m.tokens.issue('svc-x', { exp: 1 })).rejects.toThrow(TypeError);
      await expect(m.tokens.issue('svc-x', { sub: 'other' })).rejects.toThrow(TypeError);
      await expect(m.tokens.issue('')).rejects.toThrow(TypeError);
      await expect(m.tokens.issue('x'.repeat(300))).rejects.toThrow(TypeError);
    });

    it('twenty concurrent issues all succeed, each written whole', async () => {
      const issued = await Promise.all(Array.from({ length: 20 }, (_, i) => m.tokens.issue(`svc-burst-${i % 3}`)));
      for (const t of issued) expect((await rowsOf(t.sessionId)).length).toBe(2);
    });

    it('never repeats a jti', async () => {
      const jtis = new Set<string>();
      for (let i = 0; i < 100; i++) jtis.add((await m.tokens.issue('svc-many')).jti);
      expect(jtis.size).toBe(100);
    });
  });

  describe('revoke', () => {
    it('revokes one token by jti or by the token, idempotently, recording the reason', async () => {
      const a = await m.tokens.issue('svc-bob');
      const b = await m.tokens.issue('svc-bob');
      expect(await m.tokens.revoke(a.jti, 'admin')).toBe(true);
      const first = await m.tokens.findToken(a.jti);
      expect(first).toMatchObject({ revokedAt: expect.any(Number), revokeReason: 'admin' });
      expect(await m.tokens.revoke(a.jti, 'logout')).toBe(true);
      expect((await m.tokens.findToken(a.jti))?.revokedAt).toBe(first?.revokedAt);
      expect(await m.tokens.revoke(b.accessToken, 'logout')).toBe(true);
      expect(await m.tokens.isRevoked(claimsOf(a.accessToken))).toBe(true);
      expect(await m.tokens.isRevoked(claimsOf(b.accessToken))).toBe(true);
      expect(await m.tokens.revoke('no-such-jti')).toBe(false);
      await expect(m.tokens.revoke(a.jti, 'whatever' as never)).rejects.toThrow(TypeError);
      // A forged token (bad signature) naming a real jti revokes nothing.
      const c = await m.tokens.issue('svc-bob');
      const [h, p] = c.accessToken.split('.');
      expect(await m.tokens.revoke(`${h}.${p}.${randomBytes(32).toString('base64url')}`)).toBe(false);
      expect(await m.tokens.isRevoked(claimsOf(c.accessToken))).toBe(false);
    });

    it('revokes a session: every row of it, not the other sessions', async () => {
      const one = await m.tokens.issue('svc-carol');
      const two = await m.tokens.issue('svc-carol');
      expect(await m.tokens.revokeSession(one.sessionId, 'logout')).toBe(true);
      expect(await m.tokens.revokeSession(one.sessionId, 'logout')).toBe(true);
      for (const row of await rowsOf(one.sessionId))
        expect(row).toMatchObject({ revokedAt: expect.any(Number), revokeReason: 'logout' });
      expect((await m.tokens.findSession(one.sessionId))?.revokedAt).toEqual(expect.any(Number));
      expect(await m.tokens.isRevoked(claimsOf(one.accessToken))).toBe(true);
      expect(await m.tokens.isRevoked(claimsOf(two.accessToken))).toBe(false);
      expect(await m.tokens.revokeSession('no-such-session')).toBe(false);
      expect(seen).toContainEqual({ type: 'revoked', scope: 'session', sessionId: one.sessionId, reason: 'logout' });
    });

    it('revokes everything of a subject; a token issued right after (same second) works; concurrent calls all count', async () => {
      const a = await m.tokens.issue('svc-dave');
      const other = await m.tokens.issue('svc-erin');
      await m.tokens.revokeAllForSubject('svc-dave', 'password_change');
      const after = await m.tokens.issue('svc-dave');
      expect(await m.tokens.isRevoked(claimsOf(a.accessToken))).toBe(true);
      expect(await m.tokens.isRevoked(claimsOf(after.accessToken))).toBe(false);
      expect(await m.tokens.isRevoked(claimsOf(other.accessToken))).toBe(false);
      expect(claimsOf(after.accessToken).ver).toBe(1);
      for (const row of await rowsOf(a.sessionId)) expect(row.revokeReason).toBe('password_change');

      await Promise.all(Array.from({ length: 5 }, () => m.tokens.revokeAllForSubject('svc-dave')));
      expect(claimsOf((await m.tokens.issue('svc-dave')).accessToken).ver).toBe(6);
      expect(await m.tokens.isRevoked(claimsOf(after.accessToken))).toBe(true);
    });

    it('revokes every session but the current one', async () => {
      const keep = await m.tokens.issue('svc-frank');
      const others = [await m.tokens.issue('svc-frank'), await m.tokens.issue('svc-frank')];
      expect(await m.tokens.revokeOtherSessions('svc-frank', keep.sessionId)).toBe(2);
      expect(await m.tokens.isRevoked(claimsOf(keep.accessToken))).toBe(false);
      for (const o of others) expect(await m.tokens.isRevoked(claimsOf(o.accessToken))).toBe(true);
    });

    it('lists live sessions with device data, not revoked ones', async () => {
      const a = await m.tokens.issue('svc-grace', {}, { userAgent: 'Phone/1', ip: '10.1.1.1' });
      const b = await m.tokens.issue('svc-grace', {}, { userAgent: 'Laptop/2', ip: '10.2.2.2' });
      await m.tokens.revokeSession(b.sessionId);
      const { sessions, next } = await m.tokens.listSessions('svc-grace');
      expect(next).toBeNull();
      expect(sessions).toEqual([
        expect.objectContaining({
          id: a.sessionId,
          userAgent: 'Phone/1',
          ip: '10.1.1.1',
          lastSeenAt: expect.any(Date),
        }),
      ]);
    });
  });

  describe('refresh', () => {
    it('rotates in the same session and records the chain', async () => {
      const first = await m.tokens.issue('svc-heidi', { plan: 'pro' });
      const second = await m.tokens.refresh(first.refreshToken);
      expect(second.sessionId).toBe(first.sessionId);
      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect(claimsOf(second.accessToken)).toMatchObject({ sub: 'svc-heidi', sid: first.sessionId, plan: 'pro' });
      const rows = await rowsOf(first.sessionId);
      const spent = rows.find((r) => r.tokenHash === sha256(first.refreshToken))!;
      expect(spent.spentAt).toEqual(expect.any(Number));
      const child = rows.find((r) => r.tokenHash === sha256(second.refreshToken))!;
      expect(child.parentJti).toBe(spent.jti);
      expect(rows.find((r) => r.jti === second.jti)?.parentJti).toBe(spent.jti);
      expect(seen).toContainEqual(
        expect.objectContaining({ type: 'refreshed', sessionId: first.sessionId, jti: second.jti }),
      );
    });

    it('in the grace window, a spent token gets the live end of its chain again; spent before the window, it is reuse and kills the session', async () => {
      const first = await m.tokens.issue('svc-ivan');
      const second = await m.tokens.refresh(first.refreshToken);
      const again = await m.tokens.refresh(first.refreshToken);
      expect(again.refreshToken).toBe(second.refreshToken);
      expect(again.jti).toBe(second.jti);
      const third = await m.tokens.refresh(second.refreshToken);
      // Two generations old, still within the 5 s window: the live end (third), not a second chain.
      expect(await m.tokens.refresh(first.refreshToken)).toMatchObject({ refreshToken: third.refreshToken });
      expect(await m.tokens.isRevoked(claimsOf(third.accessToken))).toBe(false);
      // The same token spent 6 s ago: reuse.
      await backdateSpend(m.app, first.refreshToken, 6_000);
      await expect(m.tokens.refresh(first.refreshToken)).rejects.toBeInstanceOf(InvalidTokenException);
      expect(await m.tokens.isRevoked(claimsOf(third.accessToken))).toBe(true);
      await expect(m.tokens.refresh(third.refreshToken)).rejects.toBeInstanceOf(InvalidTokenException);
      const session = await m.tokens.findSession(first.sessionId);
      expect(session).toMatchObject({ revokeReason: 'refresh_reuse' });
      expect(seen).toContainEqual(expect.objectContaining({ type: 'reuse_detected', sessionId: first.sessionId }));
    });

    it('refuses unknown, garbage and revoked refresh tokens with a 401', async () => {
      // One answer for every refusal, reuse included: the message tells a caller nothing about why.
      const refused = (token: string) =>
        expect(m.tokens.refresh(token)).rejects.toThrow(new InvalidTokenException('Invalid refresh token'));
      await refused('unknown');
      await refused('');
      await refused('x'.repeat(5000));
      const t = await m.tokens.issue('svc-judy');
      await m.tokens.revokeSession(t.sessionId);
      await refused(t.refreshToken);
      // Reuse: a token spent before the grace window.
      const first = await m.tokens.issue('svc-judy');
      await m.tokens.refresh(first.refreshToken);
      await backdateSpend(m.app, first.refreshToken, 6_000);
      await refused(first.refreshToken);
    });

    it(`ten parallel refreshes with one token: every one is answered with the same working pair, one live chain (${ROUNDS} rounds)`, async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const t = await m.tokens.issue('svc-ken');
        const results = await Promise.allSettled(Array.from({ length: 10 }, () => m.tokens.refresh(t.refreshToken)));
        // One refresh writes the successor; the others, inside the grace window, get that same pair.
        expect(results.filter((r) => r.status === 'rejected').map((r) => String(r.reason))).toEqual([]);
        const pairs = results.map((r) => (r as PromiseFulfilledResult<IssuedTokens>).value);
        expect(new Set(pairs.map((p) => p.refreshToken)).size).toBe(1);
        expect(new Set(pairs.map((p) => p.jti)).size).toBe(1);
        const live = (await rowsOf(t.sessionId)).filter(
          (r) => r.tokenType === 'refresh' && r.spentAt === null && r.revokedAt === null,
        );
        expect(live.map((r) => r.tokenHash)).toEqual([sha256(pairs[0].refreshToken)]);
        expect((await m.tokens.findSession(t.sessionId))?.revokedAt).toBeNull();
        // The pair works: its access token is not revoked, and its refresh token carries the chain on.
        expect(await m.tokens.isRevoked(claimsOf(pairs[0].accessToken))).toBe(false);
        const next = await m.tokens.refresh(pairs[0].refreshToken);
        expect(next).toMatchObject({ sessionId: t.sessionId });
        expect(next.refreshToken).not.toBe(pairs[0].refreshToken);
      }
    });

    /** A pair that must not survive: its access token is revoked and its refresh token is a 401. */
    async function expectDeadPair(pair: IssuedTokens): Promise<void> {
      expect(await m.tokens.isRevoked(claimsOf(pair.accessToken))).toBe(true);
      await expect(m.tokens.refresh(pair.refreshToken)).rejects.toBeInstanceOf(InvalidTokenException);
    }

    /**
     * Refreshes `pairs` while `revoke` runs: first in each set order, then at
     * once for ROUNDS rounds, where the log tells which side went first. A
     * refresh that won is answered with a pair the revoke then kills; one that
     * lost is a plain 401 and spends nothing. Nothing lives afterwards.
     */
    async function refreshRacing(
      issue: (round: number) => Promise<IssuedTokens[]>,
      revoke: (pairs: IssuedTokens[]) => Promise<unknown>,
    ): Promise<void> {
      const refreshRow = async (pair: IssuedTokens) =>
        (await rowsOf(pair.sessionId)).find((r) => r.tokenHash === sha256(pair.refreshToken))!;
      const expectNothingLive = async (pairs: IssuedTokens[]) => {
        for (const pair of pairs) {
          await expectDeadPair(pair);
          expect((await m.tokens.findSession(pair.sessionId))?.revokedAt).toEqual(expect.any(Number));
        }
      };

      // The refresh commits first and the revoke lands before its answer: the refresh wins, its pair dies.
      const [early] = await issue(-1);
      store.afterRotate = async (result) => {
        expect(result.outcome).toBe('rotated');
        // The winner's successor was written and works until the revoke.
        const live = (await rowsOf(early.sessionId)).filter((r) => r.revokedAt === null && r.spentAt === null);
        expect(live.map((r) => r.tokenType).sort()).toEqual(['access', 'access', 'refresh']);
        expect((await refreshRow(early)).spentAt).toEqual(expect.any(Number));
        await revoke([early]);
      };
      const won = await m.tokens.refresh(early.refreshToken);
      expect(won.sessionId).toBe(early.sessionId);
      await expectDeadPair(won);
      await expectNothingLive([early]);

      // The revoke lands first: the refresh is a 401 and spends nothing.
      const [late] = await issue(-2);
      store.beforeRotate = () => revoke([late]);
      await expect(m.tokens.refresh(late.refreshToken)).rejects.toBeInstanceOf(InvalidTokenException);
      expect((await refreshRow(late)).spentAt).toBeNull();
      await expectNothingLive([late]);

      // At once: whichever side got there first, the outcome is the one its order gives.
      for (let round = 0; round < ROUNDS; round++) {
        const pairs = await issue(round);
        const [refreshed] = await Promise.all([
          Promise.allSettled(pairs.map((p) => m.tokens.refresh(p.refreshToken))),
          revoke(pairs),
        ]);
        for (const [i, outcome] of refreshed.entries()) {
          const wasSpent = (await refreshRow(pairs[i])).spentAt !== null;
          if (outcome.status === 'fulfilled') {
            expect(wasSpent).toBe(true);
            await expectDeadPair(outcome.value);
          } else {
            expect(outcome.reason).toBeInstanceOf(InvalidTokenException);
            expect(wasSpent).toBe(false);
          }
        }
        await expectNothingLive(pairs);
      }
    }

    it(`a refresh racing a revoke of its session never yields a token that survives it (${ROUNDS} rounds)`, async () => {
      await refreshRacing(
        () => Promise.all(Array.from({ length: 4 }, () => m.tokens.issue('svc-leo'))),
        (pairs) =>
          Promise.all(pairs.map(async (p) => expect(await m.tokens.revokeSession(p.sessionId, 'logout')).toBe(true))),
      );
    });

    it(`a refresh racing revokeAllForSubject never yields a token that survives it (${ROUNDS} rounds)`, async () => {
      let subject = '';
      await refreshRacing(
        (round) => {
          subject = `svc-mia-${round}`;
          return Promise.all(Array.from({ length: 4 }, () => m.tokens.issue(subject)));
        },
        () => m.tokens.revokeAllForSubject(subject),
      );
    });
  });

  describe('RFC 7009 and RFC 7662', () => {
    it('revokeToken: a refresh token takes its session; garbage, unknown and repeated calls succeed; another owner is left alone', async () => {
      const t = await m.tokens.issue('svc-nina');
      await expect(m.tokens.revokeToken('garbage')).resolves.toBeUndefined();
      await expect(m.tokens.revokeToken(undefined)).resolves.toBeUndefined();
      await m.tokens.revokeToken(t.refreshToken, 'refresh_token', { subject: 'someone-else' });
      expect(await m.tokens.isRevoked(claimsOf(t.accessToken))).toBe(false);
      await m.tokens.revokeToken(t.refreshToken, 'access_token');
      expect(await m.tokens.isRevoked(claimsOf(t.accessToken))).toBe(true);
      await expect(m.tokens.revokeToken(t.refreshToken)).resolves.toBeUndefined();
      const u = await m.tokens.issue('svc-nina');
      await m.tokens.revokeToken(u.accessToken, 'refresh_token');
      expect(await m.tokens.isRevoked(claimsOf(u.accessToken))).toBe(true);
      expect(await m.tokens.isRevoked(claimsOf((await m.tokens.refresh(u.refreshToken)).accessToken))).toBe(false);
    });

    it('introspect: the RFC 7662 fields for live tokens, exactly { active: false } otherwise', async () => {
      const t = await m.tokens.issue('svc-omar');
      expect(await m.tokens.introspect(t.accessToken)).toEqual({
        active: true,
        token_type: 'access_token',
        sub: 'svc-omar',
        jti: t.jti,
        sid: t.sessionId,
        iat: expect.any(Number),
        exp: expect.any(Number),
      });
      expect(await m.tokens.introspect(t.refreshToken)).toMatchObject({
        active: true,
        token_type: 'refresh_token',
        sub: 'svc-omar',
        sid: t.sessionId,
      });
      await m.tokens.revoke(t.jti);
      expect(await m.tokens.introspect(t.accessToken)).toEqual({ active: false });
      for (const garbage of ['', 'x', 'a.b.c', t.accessToken.slice(0, -3), 42, null])
        expect(await m.tokens.introspect(garbage)).toEqual({ active: false });
      await m.tokens.revokeSession(t.sessionId);
      expect(await m.tokens.introspect(t.refreshToken)).toEqual({ active: false });
    });
  });

  describe('restart', () => {
    it('a new instance on the same database knows every revocation', async () => {
      const token = await m.tokens.issue('svc-pia');
      const session = await m.tokens.issue('svc-pia');
      const subject = await m.tokens.issue('svc-quinn');
      const untouched = await m.tokens.issue('svc-pia');
      await m.tokens.revoke(token.jti);
      await m.tokens.revokeSession(session.sessionId);
      await m.tokens.revokeAllForSubject('svc-quinn');
      await m.close();
      m = await bootModule(db.reopen());
      expect(await m.tokens.isRevoked(claimsOf(token.accessToken))).toBe(true);
      expect(await m.tokens.isRevoked(claimsOf(session.accessToken))).toBe(true);
      expect(await m.tokens.isRevoked(claimsOf(subject.accessToken))).toBe(true);
      expect(await m.tokens.isRevoked(claimsOf(untouched.accessToken))).toBe(false);
    });

    it('prunes memory as tokens expire', async () => {
      await m.tokens.revoke((await m.tokens.issue('svc-rita')).jti);
      expect(m.state.stats().revokedTokens).toBeGreaterThan(0);
      m.state.prune(Math.floor(Date.now() / 1000) + 10 * 3600);
      expect(m.state.stats()).toMatchObject({ revokedTokens: 0, revokedSessions: 0, subjects: 0 });
    });
  });
});

eachDatabase('TokenLogService options', (database) => {
  let db: TestDatabase;
  beforeAll(() => {
    db = database();
  });

  it('allowlist mode: issued tokens are active, also after a restart; a jti not in the log is not', async () => {
    let m = await bootModule(db.fresh(), { mode: 'allowlist' });
    const t = await m.tokens.issue('allow-ann');
    expect(await m.tokens.isRevoked(claimsOf(t.accessToken))).toBe(false);
    await m.close();
    m = await bootModule(db.reopen(), { mode: 'allowlist' });
    try {
      expect(m.state.stats().activeTokens).toBeGreaterThan(0);
      expect(await m.tokens.isRevoked(claimsOf(t.accessToken))).toBe(false);
      expect(await m.tokens.isRevoked({ ...claimsOf(t.accessToken), jti: 'not-in-the-log' })).toBe(true);
      await m.tokens.revoke(t.jti);
      expect(await m.tokens.isRevoked(claimsOf(t.accessToken))).toBe(true);
    } finally {
      await m.close();
    }
  });

  it('reuse right away with refreshReuseGrace 0 kills the session', async () => {
    const m = await bootModule(db.fresh(), { refreshReuseGrace: 0 });
    try {
      const first = await m.tokens.issue('grace-zero');
      await sleep(5);
      const second = await m.tokens.refresh(first.refreshToken);
      await sleep(5);
      await expect(m.tokens.refresh(first.refreshToken)).rejects.toBeInstanceOf(InvalidTokenException);
      expect(await m.tokens.isRevoked(claimsOf(second.accessToken))).toBe(true);
    } finally {
      await m.close();
    }
  });

  it('sessionMaxLifetime stops refreshes past it and caps expiries; sessionIdleTimeout stops idle sessions', async () => {
    // Each limit far from the other, and time moved in the database rather than waited for: a
    // refusal below can only come from the limit it is about, never from the other or a token's expiry.
    const m = await bootModule(db.fresh(), { accessTokenTtl: 60, sessionMaxLifetime: 600, sessionIdleTimeout: 300 });
    const sessions = m.source.getRepository(entities.session);
    /** Moves a session's creation and last-seen time back, as time would; its tokens keep their own expiry. */
    const age = async (sessionId: string, ago: { created: number; seen: number }) => {
      const session = await sessions.findOneByOrFail({ sessionId });
      await sessions.update(
        { sessionId },
        { createdAt: session.createdAt - ago.created, lastSeenAt: session.lastSeenAt - ago.seen },
      );
    };
    const refreshExpiry = async (token: string) =>
      (await m.source.getRepository(entities.tokenLog).findOneByOrFail({ tokenHash: sha256(token) })).expiresAt;
    try {
      // Past sessionMaxLifetime, though seen just now and with a refresh token that has not expired: refused.
      const capped = await m.tokens.issue('life-sam');
      const next = await m.tokens.refresh(capped.refreshToken);
      expect(next.refreshExpiresIn).toBeLessThanOrEqual(600);
      await age(capped.sessionId, { created: 601_000, seen: 0 });
      await expect(m.tokens.refresh(next.refreshToken)).rejects.toBeInstanceOf(InvalidTokenException);
      expect(await refreshExpiry(next.refreshToken)).toBeGreaterThan(Date.now());

      // Idle past sessionIdleTimeout, well inside sessionMaxLifetime: refused.
      const idle = await m.tokens.issue('life-ted');
      await age(idle.sessionId, { created: 301_000, seen: 301_000 });
      await expect(m.tokens.refresh(idle.refreshToken)).rejects.toBeInstanceOf(InvalidTokenException);

      // A refresh counts as seen: 250 s idle, refreshed, 250 s idle again (500 s since the first
      // time it was seen), inside both limits: still refreshes.
      const active = await m.tokens.issue('life-tom');
      await age(active.sessionId, { created: 250_000, seen: 250_000 });
      const kept = await m.tokens.refresh(active.refreshToken);
      await age(active.sessionId, { created: 250_000, seen: 250_000 });
      await expect(m.tokens.refresh(kept.refreshToken)).resolves.toMatchObject({ sessionId: active.sessionId });
    } finally {
      await m.close();
    }
  });

  it('key rotation: old tokens verify while their key is live, new ones use the current key, retire() kills the old at once', async () => {
    const old = {
      kid: 'k-old',
      algorithm: 'ES256' as const,
      privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    };
    const fresh = {
      kid: 'k-new',
      algorithm: 'ES256' as const,
      privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    };
    let m = await bootModule(db.fresh(), { signing: old });
    const before = await m.tokens.issue('rot-uma');
    await m.close();
    m = await bootModule(db.reopen(), { signing: { keys: [fresh, old] } });
    try {
      const after = await m.tokens.issue('rot-uma');
      expect(decodePart(after.accessToken, 0)).toMatchObject({ kid: 'k-new', alg: 'ES256' });
      expect(await m.tokens.introspect(before.accessToken)).toMatchObject({ active: true });
      m.keys.retire('k-old');
      expect(await m.tokens.introspect(before.accessToken)).toEqual({ active: false });
      expect(await m.tokens.introspect(after.accessToken)).toMatchObject({ active: true });
      expect(() => m.keys.retire('k-new')).toThrow(/signs new tokens/);
    } finally {
      await m.close();
    }
  });
});
