import 'reflect-metadata';
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import {
  CurrentToken,
  InvalidTokenException,
  JwtRevocationModule,
  KeyRing,
  RevocableJwtGuard,
  TokenEvents,
  TokenLogService,
  type IssuedTokens,
  type JwtRevocationModuleOptions,
  type SigningKeyOptions,
  type TokenEvent,
  type VerifiedToken,
} from 'nestjs-jwt-revocation';
import { JwtRevocationConfig, jwtRevocationEntitySet } from 'nestjs-jwt-revocation/testing';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { eachDatabase } from '../support/databases.js';
import { decodePart, forge } from '../support/forge.js';
import { INVALID } from '../support/http.js';
import { keyPair, TEST_SECRET } from '../support/keys.js';
import { sleep } from '../support/time.js';
import { liveRefreshRows, refreshRowOf, rowsOf, sha256 } from '../support/token-rows.js';

/** One guarded route, so a test can ask the guard (not only the service) whether a token still works. */
@Controller('probe')
class ProbeController {
  @Get()
  probe(@CurrentToken() token: VerifiedToken) {
    return { sub: token.sub, sid: token.sid, jti: token.jti };
  }
}

async function boot(database: TypeOrmModuleOptions, options: Partial<JwtRevocationModuleOptions> = {}): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [TypeOrmModule.forRoot(database), JwtRevocationModule.forRoot({ signing: { secret: TEST_SECRET }, ...options })],
    controllers: [ProbeController],
    providers: [{ provide: APP_GUARD, useClass: RevocableJwtGuard }],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
  await app.init();
  return app;
}

const tokensOf = (app: INestApplication) => app.get(TokenLogService);

/** GET /probe with the token: the guard's answer (status code). */
async function probe(app: INestApplication, accessToken: string): Promise<number> {
  return (await request(app.getHttpServer()).get('/probe').set('Authorization', `Bearer ${accessToken}`)).status;
}

async function expectInvalid(promise: Promise<unknown>): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(InvalidTokenException);
}

/**
 * Everything of a pair is dead: in this instance's memory (introspection), in
 * the database, for refresh, and (`guard`) at the guard. Passport keeps its
 * strategies in one process-wide registry, so with two apps in one test
 * process the guard of the app booted last answers for both: ask the guard
 * only when the app is the one booted last.
 */
async function expectDead(app: INestApplication, pair: IssuedTokens, guard = true): Promise<void> {
  const tokens = tokensOf(app);
  if (guard) expect(await probe(app, pair.accessToken)).toBe(401);
  expect(await tokens.introspect(pair.accessToken)).toEqual({ active: false });
  await expectInvalid(tokens.refresh(pair.refreshToken));
  expect((await tokens.findToken(pair.jti))?.revokedAt).not.toBeNull();
  expect((await refreshRowOf(app, pair.refreshToken)).revokedAt).not.toBeNull();
}

function collect(app: INestApplication): { events: TokenEvent[]; stop: () => void } {
  const events: TokenEvent[] = [];
  const stop = app.get(TokenEvents).subscribe((event) => {
    events.push(event);
  });
  return { events, stop };
}

eachDatabase('refresh tokens (service level)', (database) => {
  const db = database();
  // Two app instances alive at once on one database: only PostgreSQL and
  // MariaDB. SQLite is a single file with one writer and no server; a second
  // process on it would test file locking, not the store's row locks.
  const twoInstances = db.name === 'sqlite' ? it.skip : it;

  describe('rotation, parent chain, grace replay and reuse (grace 5 s)', () => {
    let app: INestApplication;
    let tokens: TokenLogService;
    beforeAll(async () => {
      app = await boot(db.fresh());
      tokens = tokensOf(app);
    });
    afterAll(async () => {
      await app?.close();
    });

    it('refresh gives a new pair in the same session, spends the old token and records parentJti', async () => {
      const first = await tokens.issue('chain.alice');
      const r0 = await refreshRowOf(app, first.refreshToken);
      expect(r0).toMatchObject({ tokenType: 'refresh', sessionId: first.sessionId, parentJti: null, spentAt: null, revokedAt: null });

      const second = await tokens.refresh(first.refreshToken);
      expect(second.sessionId).toBe(first.sessionId);
      expect(second.jti).not.toBe(first.jti);
      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect(decodePart(second.accessToken, 1)).toMatchObject({ sub: 'chain.alice', sid: first.sessionId, jti: second.jti });
      expect(await probe(app, second.accessToken)).toBe(200);

      expect((await refreshRowOf(app, first.refreshToken)).spentAt).not.toBeNull();
      const r1 = await refreshRowOf(app, second.refreshToken);
      expect(r1).toMatchObject({ sessionId: first.sessionId, parentJti: r0.jti, spentAt: null, revokedAt: null });
      expect(await tokens.findToken(second.jti)).toMatchObject({ tokenType: 'access', sessionId: first.sessionId, parentJti: r0.jti });

      const third = await tokens.refresh(second.refreshToken);
      expect((await refreshRowOf(app, third.refreshToken)).parentJti).toBe(r1.jti);
      expect(await tokens.findToken(third.jti)).toMatchObject({ parentJti: r1.jti });
      expect(await liveRefreshRows(app, first.sessionId)).toHaveLength(1);
    });

    it('grace: the immediately previous token gets the SAME successor pair, not a second chain', async () => {
      expect(app.get(JwtRevocationConfig).refreshReuseGrace).toBe(5);
      const first = await tokens.issue('grace.bob');
      const a = await tokens.refresh(first.refreshToken);
      const b = await tokens.refresh(first.refreshToken);
      expect(b.refreshToken).toBe(a.refreshToken);
      expect(b.jti).toBe(a.jti);
      expect(b.sessionId).toBe(a.sessionId);
      expect(decodePart(b.accessToken, 1).jti).toBe(a.jti);
      expect(await probe(app, b.accessToken)).toBe(200);

      const rows = await rowsOf(app, first.sessionId);
      expect(rows.filter((r) => r.tokenType === 'refresh')).toHaveLength(2);
      expect(rows.filter((r) => r.tokenType === 'access')).toHaveLength(2);
      expect(await liveRefreshRows(app, first.sessionId)).toHaveLength(1);
      expect((await tokens.findSession(first.sessionId))?.revokedAt).toBeNull();

      // The chain goes on from the replayed pair.
      const next = await tokens.refresh(b.refreshToken);
      expect(await probe(app, next.accessToken)).toBe(200);
    });

    it('reuse: a token two generations old revokes the whole session (newest included) even inside the grace window', async () => {
      const { events, stop } = collect(app);
      try {
        const first = await tokens.issue('reuse.carol');
        const other = await tokens.issue('reuse.carol');
        const second = await tokens.refresh(first.refreshToken);
        const third = await tokens.refresh(second.refreshToken);
        const r0 = await refreshRowOf(app, first.refreshToken);

        await expectInvalid(tokens.refresh(first.refreshToken));

        const session = await tokens.findSession(first.sessionId);
        expect(session).toMatchObject({ revokeReason: 'refresh_reuse' });
        expect(session?.revokedAt).not.toBeNull();
        const rows = await rowsOf(app, first.sessionId);
        expect(rows).toHaveLength(6);
        for (const row of rows) expect(row).toMatchObject({ revokedAt: expect.any(Number), revokeReason: 'refresh_reuse' });

        await expectDead(app, third);
        await expectDead(app, second);
        // The second presentation of the newest pair's parent is no replay either now.
        await expectInvalid(tokens.refresh(second.refreshToken));

        expect(events).toContainEqual({ type: 'revoked', scope: 'session', sessionId: first.sessionId, reason: 'refresh_reuse' });
        expect(events).toContainEqual({ type: 'reuse_detected', subject: 'reuse.carol', sessionId: first.sessionId, jti: r0.jti });

        // Another session of the same subject is not touched.
        expect(await probe(app, other.accessToken)).toBe(200);
        expect(await tokens.refresh(other.refreshToken)).toMatchObject({ sessionId: other.sessionId });
      } finally {
        stop();
      }
    });

    it('type confusion: refresh() refuses an access token, a refresh token is no access token; nothing is killed', async () => {
      const pair = await tokens.issue('confused.dan');
      await expectInvalid(tokens.refresh(pair.accessToken));
      for (const bad of ['', 'unknown-refresh-token', 'x'.repeat(300), undefined as unknown as string, 42 as unknown as string]) {
        await expectInvalid(tokens.refresh(bad));
      }
      expect(await probe(app, pair.refreshToken)).toBe(401);
      expect(await probe(app, pair.accessToken)).toBe(200);
      expect((await tokens.findSession(pair.sessionId))?.revokedAt).toBeNull();
      expect(await tokens.refresh(pair.refreshToken)).toMatchObject({ sessionId: pair.sessionId });
    });
  });

  describe('grace window elapsed (refreshReuseGrace 1)', () => {
    let short: INestApplication;
    beforeAll(async () => {
      short = await boot(db.fresh(), { refreshReuseGrace: 1 });
    });
    afterAll(async () => {
      await short?.close();
    });

    it('after refreshReuseGrace, the previous token is reuse: the session dies with reason refresh_reuse', async () => {
      const tokens = tokensOf(short);
      const first = await tokens.issue('late.erin');
      const second = await tokens.refresh(first.refreshToken);
      await sleep(1300);
      await expectInvalid(tokens.refresh(first.refreshToken));
      expect(await tokens.findSession(first.sessionId)).toMatchObject({ revokeReason: 'refresh_reuse' });
      await expectDead(short, second);
    });
  });

  describe('grace window disabled (refreshReuseGrace 0)', () => {
    let none: INestApplication;
    beforeAll(async () => {
      none = await boot(db.fresh(), { refreshReuseGrace: 0 });
    });
    afterAll(async () => {
      await none?.close();
    });

    it('refreshReuseGrace 0: presenting the previous token again is reuse at once', async () => {
      const tokens = tokensOf(none);
      const first = await tokens.issue('strict.frank');
      const second = await tokens.refresh(first.refreshToken);
      await sleep(5);
      await expectInvalid(tokens.refresh(first.refreshToken));
      expect(await tokens.findSession(first.sessionId)).toMatchObject({ revokeReason: 'refresh_reuse' });
      await expectDead(none, second);
    });

    it('refreshReuseGrace 0: two parallel refreshes with one token are reuse, not a replayed pair', async () => {
      const tokens = tokensOf(none);
      const first = await tokens.issue('strict.gina');
      const results = await Promise.allSettled([tokens.refresh(first.refreshToken), tokens.refresh(first.refreshToken)]);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(InvalidTokenException);
      // With the window disabled, at most one caller gets a pair, and the duplicate kills the session.
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(await tokens.findSession(first.sessionId)).toMatchObject({ revokeReason: 'refresh_reuse' });
    });
  });

  describe('atomic refresh', () => {
    let app: INestApplication;
    let twin: INestApplication | undefined;
    beforeAll(async () => {
      app = await boot(db.fresh());
    });
    afterAll(async () => {
      await twin?.close();
      await app?.close();
    });

    it('N parallel refreshes with one token on one instance: every caller gets the same pair, one live chain', async () => {
      const tokens = tokensOf(app);
      const first = await tokens.issue('atomic.hank');
      const results = await Promise.allSettled(Array.from({ length: 12 }, () => tokens.refresh(first.refreshToken)));
      const failures = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
      expect(failures).toEqual([]);
      const pairs = results.map((r) => (r as PromiseFulfilledResult<IssuedTokens>).value);
      expect(new Set(pairs.map((p) => p.refreshToken)).size).toBe(1);
      expect(new Set(pairs.map((p) => p.jti)).size).toBe(1);

      const rows = await rowsOf(app, first.sessionId);
      expect(rows.filter((r) => r.tokenType === 'refresh')).toHaveLength(2);
      expect(rows.filter((r) => r.tokenType === 'access')).toHaveLength(2);
      const live = await liveRefreshRows(app, first.sessionId);
      expect(live).toHaveLength(1);
      expect(live[0].tokenHash).toBe(sha256(pairs[0].refreshToken));
      expect(await tokens.findToken(pairs[0].jti)).not.toBeNull();
      expect(await probe(app, pairs[0].accessToken)).toBe(200);
      expect(await tokens.refresh(pairs[0].refreshToken)).toMatchObject({ sessionId: first.sessionId });
    });

    twoInstances('N parallel refreshes split over two instances on one database leave exactly one live chain', async () => {
      twin = await boot(db.reopen());
      for (let round = 0; round < 3; round++) {
        const first = await tokensOf(app).issue(`atomic.twin${round}`);
        const calls = Array.from({ length: 10 }, (_, i) => tokensOf(i % 2 === 0 ? app : twin!).refresh(first.refreshToken));
        const results = await Promise.allSettled(calls);
        const failures = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
        expect(failures).toEqual([]);
        const pairs = results.map((r) => (r as PromiseFulfilledResult<IssuedTokens>).value);
        expect(new Set(pairs.map((p) => p.refreshToken)).size).toBe(1);
        expect(new Set(pairs.map((p) => p.jti)).size).toBe(1);
        expect(await liveRefreshRows(app, first.sessionId)).toHaveLength(1);
        expect((await rowsOf(app, first.sessionId)).filter((r) => r.tokenType === 'access')).toHaveLength(2);
        expect(await probe(twin!, pairs[0].accessToken)).toBe(200);
      }
    });
  });

  describe('refresh racing logout and logout-all', () => {
    let app: INestApplication;
    let twin: INestApplication | undefined;
    beforeAll(async () => {
      app = await boot(db.fresh());
    });
    afterAll(async () => {
      await twin?.close();
      await app?.close();
    });

    /** Runs refresh and revoke at once, the revoke started `lag` ms later (0: same tick), and checks nothing survives. */
    async function race(
      refresher: INestApplication,
      revoker: INestApplication,
      subject: string,
      revoke: (tokens: TokenLogService, pair: IssuedTokens) => Promise<unknown>,
      guard = true,
    ): Promise<void> {
      for (const lag of [0, 0, 1, 2, 3, 5]) {
        const pair = await tokensOf(refresher).issue(subject);
        const [refreshed, revoked] = await Promise.allSettled([
          tokensOf(refresher).refresh(pair.refreshToken),
          sleep(lag).then(() => revoke(tokensOf(revoker), pair)),
        ]);
        expect(revoked.status).toBe('fulfilled');
        // Either order is fine: a refresh that won is revoked with the session, one that lost is a plain 401.
        if (refreshed.status === 'fulfilled') await expectDead(revoker, refreshed.value, guard);
        else expect(refreshed.reason).toBeInstanceOf(InvalidTokenException);
        await expectDead(revoker, pair, guard);
        expect(await liveRefreshRows(revoker, pair.sessionId)).toHaveLength(0);
      }
    }

    it('refresh racing revokeSession (logout) never yields a token that survives it', async () => {
      await race(app, app, 'race.ivan', (tokens, pair) => tokens.revokeSession(pair.sessionId, 'logout'));
    });

    it('refresh racing revokeAllForSubject (logout-all) never yields a token that survives it', async () => {
      await race(app, app, 'race.judy', (tokens) => tokens.revokeAllForSubject('race.judy'));
      // A new login after the cutoff works.
      const again = await tokensOf(app).issue('race.judy');
      expect(await probe(app, again.accessToken)).toBe(200);
    });

    twoInstances('across two instances: a refresh on one racing a logout or logout-all on the other leaves nothing alive', async () => {
      twin = await boot(db.reopen());
      // The revoking instance is not the one booted last: no guard check (see expectDead).
      await race(twin, app, 'race.kim', (tokens, pair) => tokens.revokeSession(pair.sessionId, 'logout'), false);
      await race(twin, app, 'race.leo', (tokens) => tokens.revokeAllForSubject('race.leo'), false);
      // The refreshing instance cannot refresh anything of those sessions either.
      const rows = await app.get(DataSource).getRepository(jwtRevocationEntitySet().tokenLog).find({ where: { subject: 'race.kim' } });
      expect(rows.filter((r) => r.revokedAt === null)).toEqual([]);
    });
  });

  describe('session lifetimes', () => {
    describe('sessionMaxLifetime 2 s (accessTokenTtl 1)', () => {
      let app: INestApplication;
      beforeAll(async () => {
        app = await boot(db.fresh(), { accessTokenTtl: 1, sessionMaxLifetime: 2 });
      });
      afterAll(async () => {
        await app?.close();
      });

      it('refreshes inside the lifetime, with tokens capped at createdAt + sessionMaxLifetime; none past it', async () => {
        const tokens = tokensOf(app);
        const first = await tokens.issue('max.mia');
        const session = await tokens.findSession(first.sessionId);
        const end = session!.createdAt + 2000;
        await sleep(600);
        const second = await tokens.refresh(first.refreshToken);
        expect((decodePart(second.accessToken, 1).exp as number) * 1000).toBeLessThanOrEqual(end);
        expect((await refreshRowOf(app, second.refreshToken)).expiresAt).toBeLessThanOrEqual(end);
        expect(second.refreshExpiresIn).toBeLessThanOrEqual(2);
        await sleep(Math.max(0, end - Date.now()) + 300);
        await expectInvalid(tokens.refresh(second.refreshToken));
        expect(await liveRefreshRows(app, first.sessionId)).toHaveLength(1);
      });

      it('caps the first pair too: the refresh token issue() hands out does not outlive the session', async () => {
        const tokens = tokensOf(app);
        const first = await tokens.issue('max.nick');
        const session = await tokens.findSession(first.sessionId);
        const end = session!.createdAt + 2000;
        expect(first.refreshExpiresIn).toBeLessThanOrEqual(2);
        expect((await refreshRowOf(app, first.refreshToken)).expiresAt).toBeLessThanOrEqual(end);
        expect(session!.expiresAt).toBeLessThanOrEqual(end);
      });

      it('past the lifetime, introspection calls the refresh token inactive and the session is no longer listed', async () => {
        const tokens = tokensOf(app);
        const first = await tokens.issue('max.olga');
        await sleep(2300);
        await expectInvalid(tokens.refresh(first.refreshToken));
        expect(await tokens.introspect(first.refreshToken)).toEqual({ active: false });
        expect((await tokens.listSessions('max.olga')).sessions.map((s) => s.id)).not.toContain(first.sessionId);
      });
    });

    describe('sessionIdleTimeout 1 s (accessTokenTtl 1, clockTolerance 0)', () => {
      let app: INestApplication;
      beforeAll(async () => {
        app = await boot(db.fresh(), { accessTokenTtl: 1, sessionIdleTimeout: 1, clockTolerance: 0 });
      });
      afterAll(async () => {
        await app?.close();
      });

      it('a session not seen for sessionIdleTimeout cannot be refreshed', async () => {
        const tokens = tokensOf(app);
        const first = await tokens.issue('idle.pam');
        await sleep(1400);
        await expectInvalid(tokens.refresh(first.refreshToken));
      });

      it('each refresh counts as seen: a chain refreshed every half second outlives the idle timeout', async () => {
        const tokens = tokensOf(app);
        let pair = await tokens.issue('idle.quinn');
        for (let i = 0; i < 4; i++) {
          await sleep(450);
          pair = await tokens.refresh(pair.refreshToken);
        }
        expect(await probe(app, pair.accessToken)).toBe(200);
      });

      it('introspection calls the refresh token of an idle session inactive', async () => {
        const tokens = tokensOf(app);
        const first = await tokens.issue('idle.rita');
        await sleep(1400);
        await expectInvalid(tokens.refresh(first.refreshToken));
        expect(await tokens.introspect(first.refreshToken)).toEqual({ active: false });
      });

      it('an expired access token is 401 and introspects as exactly { active: false }', async () => {
        const tokens = tokensOf(app);
        const pair = await tokens.issue('idle.sam');
        expect(await tokens.introspect(pair.accessToken)).toMatchObject({ active: true });
        await sleep(2100);
        expect(await probe(app, pair.accessToken)).toBe(401);
        expect(await tokens.introspect(pair.accessToken)).toEqual({ active: false });
      });
    });

    describe('sessionIdleTimeout 3 s, activity through the guard', () => {
      // 3 s, not 1: the guard records "seen" in whole seconds, so a 1 s
      // timeout could not tell a request 0.6 s ago from one 1.6 s ago.
      let app: INestApplication;
      beforeAll(async () => {
        app = await boot(db.fresh(), { accessTokenTtl: 5, sessionIdleTimeout: 3 });
      });
      afterAll(async () => {
        await app?.close();
      });

      it('a session in use through the guard is seen, so it is not idle: it can still be refreshed', async () => {
        const tokens = tokensOf(app);
        const first = await tokens.issue('idle.tess');
        await sleep(2000);
        expect(await probe(app, first.accessToken)).toBe(200);
        await sleep(1500);
        // The library itself reports the session as seen well within the timeout...
        const listed = (await tokens.listSessions('idle.tess')).sessions.find((s) => s.id === first.sessionId);
        expect(listed!.lastSeenAt.getTime()).toBeGreaterThan(Date.now() - 3000);
        // ...so it must not refuse it as idle.
        expect(await tokens.refresh(first.refreshToken)).toMatchObject({ sessionId: first.sessionId });
      });
    });
  });

  describe('key rotation', () => {
    const ec = keyPair('ES256');
    const rsa = keyPair('RS256');
    const hmac = 'rotation-hmac-secret-that-is-32-bytes-or-more';
    const OLD: SigningKeyOptions = { kid: 'k-old', algorithm: 'ES256', privateKey: ec.privateKey };
    const NEW: SigningKeyOptions = { kid: 'k-new', algorithm: 'RS256', privateKey: rsa.privateKey };
    const HMAC: SigningKeyOptions = { kid: 'k-hmac', secret: hmac };

    it('new tokens are signed with the current key and name its kid; `current` picks it', async () => {
      const app = await boot(db.fresh(), { signing: { keys: [HMAC, OLD], current: 'k-old' } });
      try {
        const tokens = tokensOf(app);
        const pair = await tokens.issue('kid.uma');
        expect(decodePart(pair.accessToken, 0)).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: 'k-old' });
        expect(await probe(app, pair.accessToken)).toBe(200);
        const next = await tokens.refresh(pair.refreshToken);
        expect(decodePart(next.accessToken, 0)).toMatchObject({ alg: 'ES256', kid: 'k-old' });
        expect(await probe(app, next.accessToken)).toBe(200);
      } finally {
        await app.close();
      }
    });

    it('after a restart with [new, old]: old tokens work, new ones use the new kid; retire(old) kills old tokens at once', async () => {
      const before = await boot(db.fresh(), { signing: { keys: [OLD] } });
      let oldPair: IssuedTokens;
      let oldPair2: IssuedTokens;
      try {
        oldPair = await tokensOf(before).issue('kid.vic');
        oldPair2 = await tokensOf(before).issue('kid.vic');
        expect(decodePart(oldPair.accessToken, 0)).toMatchObject({ kid: 'k-old' });
      } finally {
        await before.close();
      }

      const app = await boot(db.reopen(), { signing: { keys: [NEW, OLD] } });
      try {
        const tokens = tokensOf(app);
        expect(await probe(app, oldPair.accessToken)).toBe(200);
        const fresh = await tokens.issue('kid.vic');
        expect(decodePart(fresh.accessToken, 0)).toEqual({ alg: 'RS256', typ: 'at+jwt', kid: 'k-new' });
        expect(await probe(app, fresh.accessToken)).toBe(200);
        // A session started under the old key goes on under the new one.
        const rotated = await tokens.refresh(oldPair2.refreshToken);
        expect(decodePart(rotated.accessToken, 0)).toMatchObject({ kid: 'k-new' });

        const ring = app.get(KeyRing);
        expect(() => ring.retire('k-new')).toThrow();
        expect(ring.retire('k-old')).toBe(true);
        expect(await probe(app, oldPair.accessToken)).toBe(401);
        expect(await tokens.introspect(oldPair.accessToken)).toEqual({ active: false });
        expect(await probe(app, fresh.accessToken)).toBe(200);
        expect(await probe(app, rotated.accessToken)).toBe(200);
        // Refresh tokens are opaque: retiring a signing key does not end sessions.
        expect(decodePart((await tokens.refresh(oldPair.refreshToken)).accessToken, 0)).toMatchObject({ kid: 'k-new' });
      } finally {
        await app.close();
      }
    });

    it('an unknown or malicious kid, or an algorithm the named key does not use, is a plain 401', async () => {
      const app = await boot(db.fresh(), { signing: { keys: [HMAC, NEW] } });
      try {
        const tokens = tokensOf(app);
        const pair = await tokens.issue('kid.wes');
        const payload = decodePart(pair.accessToken, 1);
        const header = { alg: 'HS256', typ: 'at+jwt' };
        // The control: a hand-made token with the right kid and key passes, so the others fail for their kid alone.
        expect(await probe(app, forge({ ...header, kid: 'k-hmac' }, payload, hmac))).toBe(200);
        const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
        const hostile = [
          forge({ ...header, kid: 'nope' }, payload, hmac),
          forge(header, payload, hmac),
          forge({ ...header, kid: '' }, payload, hmac),
          forge({ ...header, kid: '../../../../dev/null' }, payload, ''),
          forge({ ...header, kid: "k-hmac' OR '1'='1" }, payload, hmac),
          forge({ ...header, kid: '__proto__' }, payload, hmac),
          forge({ ...header, kid: 'constructor' }, payload, hmac),
          forge({ ...header, kid: { $ne: null } }, payload, hmac),
          forge({ ...header, kid: ['k-hmac'] }, payload, hmac),
          forge({ ...header, kid: 7 }, payload, hmac),
          forge({ ...header, kid: 'k-new' }, payload, publicPem),
          forge({ ...header, kid: 'k-new' }, payload, hmac),
          forge({ alg: 'none', typ: 'at+jwt', kid: 'k-hmac' }, payload, null),
          forge({ ...header, kid: 'k-hmac', alg: 'HS512' }, payload, hmac),
          forge({ ...header, kid: 'x'.repeat(5000) }, payload, hmac),
        ];
        for (const token of hostile) {
          const res = await request(app.getHttpServer()).get('/probe').set('Authorization', `Bearer ${token}`);
          expect(res.status).toBe(401);
          expect(res.body).toEqual(INVALID);
          expect(await tokens.introspect(token)).toEqual({ active: false });
          await expect(tokens.revokeToken(token)).resolves.toBeUndefined();
        }
        expect(await probe(app, pair.accessToken)).toBe(200);
      } finally {
        await app.close();
      }
    });

    it('a grace replay right after a restart that made another key current gets the same pair, not reuse', async () => {
      const before = await boot(db.fresh(), { signing: { keys: [OLD] }, refreshReuseGrace: 30 });
      let first: IssuedTokens;
      let second: IssuedTokens;
      try {
        first = await tokensOf(before).issue('kid.xena');
        second = await tokensOf(before).refresh(first.refreshToken);
      } finally {
        await before.close();
      }
      const app = await boot(db.reopen(), { signing: { keys: [NEW, OLD] }, refreshReuseGrace: 30 });
      try {
        const tokens = tokensOf(app);
        const replay = await tokens.refresh(first.refreshToken).catch((error: unknown) => error);
        expect(replay).toMatchObject({ refreshToken: second.refreshToken, jti: second.jti });
        expect((await tokens.findSession(first.sessionId))?.revokedAt).toBeNull();
      } finally {
        await app.close();
      }
    });

    twoInstances('two instances with different current keys (a rolling key rotation) keep one live chain for parallel refreshes', async () => {
      const a = await boot(db.fresh(), { signing: { keys: [OLD] } });
      const b = await boot(db.reopen(), { signing: { keys: [NEW, OLD] } });
      try {
        const first = await tokensOf(a).issue('kid.yuri');
        const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => tokensOf(i % 2 ? a : b).refresh(first.refreshToken)));
        expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
        const pairs = results.map((r) => (r as PromiseFulfilledResult<IssuedTokens>).value);
        expect(new Set(pairs.map((p) => p.refreshToken)).size).toBe(1);
        expect((await tokensOf(a).findSession(first.sessionId))?.revokedAt).toBeNull();
        expect(await liveRefreshRows(a, first.sessionId)).toHaveLength(1);
      } finally {
        await b.close();
        await a.close();
      }
    });
  });

  describe('RFC 7009 revokeToken and RFC 7662 introspect', () => {
    let app: INestApplication;
    let tokens: TokenLogService;
    beforeAll(async () => {
      app = await boot(db.fresh(), { issuer: 'storage-tests' });
      tokens = tokensOf(app);
    });
    afterAll(async () => {
      await app?.close();
    });

    it('introspect: an active access token and an active refresh token, whatever the hint', async () => {
      const pair = await tokens.issue('intro.zoe');
      const claims = decodePart(pair.accessToken, 1);
      const access = {
        active: true,
        token_type: 'access_token',
        sub: 'intro.zoe',
        jti: pair.jti,
        sid: pair.sessionId,
        iat: claims.iat,
        exp: claims.exp,
        iss: 'storage-tests',
      };
      expect(await tokens.introspect(pair.accessToken)).toEqual(access);
      expect(await tokens.introspect(pair.accessToken, 'refresh_token')).toEqual(access);
      const row = await refreshRowOf(app, pair.refreshToken);
      const refresh = {
        active: true,
        token_type: 'refresh_token',
        sub: 'intro.zoe',
        // No jti for a refresh token: its row id keys the successor and stays server-side.
        sid: pair.sessionId,
        iat: Math.floor(row.issuedAt / 1000),
        exp: Math.floor(row.expiresAt / 1000),
      };
      expect(await tokens.introspect(pair.refreshToken)).toEqual(refresh);
      expect(await tokens.introspect(pair.refreshToken, 'access_token')).toEqual(refresh);
      expect(Number.isInteger(refresh.iat) && Number.isInteger(refresh.exp)).toBe(true);
    });

    it('introspect: exactly { active: false } for spent, revoked, unknown and malformed tokens', async () => {
      const pair = await tokens.issue('intro.adam');
      const next = await tokens.refresh(pair.refreshToken);
      const other = await tokens.issue('intro.adam');
      await tokens.revokeSession(other.sessionId);
      const forged = forge(decodePart(pair.accessToken, 0), decodePart(pair.accessToken, 1), 'not-the-secret-not-the-secret-not-the');
      const inactive: unknown[] = [
        pair.refreshToken, // spent
        other.accessToken, // revoked session
        other.refreshToken,
        forged,
        'unknown-token',
        'a.b.c',
        '',
        'x'.repeat(20000),
        undefined,
        null,
        42,
        { token: next.refreshToken },
      ];
      for (const token of inactive) expect(await tokens.introspect(token)).toEqual({ active: false });
      expect(await tokens.introspect(next.refreshToken)).toMatchObject({ active: true });
      await tokens.revokeAllForSubject('intro.adam');
      expect(await tokens.introspect(next.accessToken)).toEqual({ active: false });
      expect(await tokens.introspect(next.refreshToken)).toEqual({ active: false });
    });

    it('revokeToken: a refresh token kills its whole session, even under the access_token hint', async () => {
      const { events, stop } = collect(app);
      try {
        const pair = await tokens.issue('rev.bea');
        await expect(tokens.revokeToken(pair.refreshToken, 'access_token')).resolves.toBeUndefined();
        expect(await probe(app, pair.accessToken)).toBe(401);
        expect(await tokens.introspect(pair.accessToken)).toEqual({ active: false });
        await expectInvalid(tokens.refresh(pair.refreshToken));
        expect(await tokens.findSession(pair.sessionId)).toMatchObject({ revokeReason: 'logout' });
        expect(events).toContainEqual({ type: 'revoked', scope: 'session', sessionId: pair.sessionId, reason: 'logout' });
        // Already revoked: success again.
        await expect(tokens.revokeToken(pair.refreshToken, 'refresh_token')).resolves.toBeUndefined();
      } finally {
        stop();
      }
    });

    it('revokeToken: an access token is revoked, even under the refresh_token hint', async () => {
      const pair = await tokens.issue('rev.cal');
      await tokens.revokeToken(pair.accessToken, 'refresh_token');
      expect(await probe(app, pair.accessToken)).toBe(401);
      expect(await tokens.introspect(pair.accessToken)).toEqual({ active: false });
      expect(await tokens.findToken(pair.jti)).toMatchObject({ revokeReason: 'logout' });
      await expect(tokens.revokeToken(pair.accessToken)).resolves.toBeUndefined();
    });

    it('revokeToken: unknown, garbage and malformed input is a success that revokes nothing', async () => {
      const bystander = await tokens.issue('rev.dora');
      for (const token of ['unknown', '', 'a.b.c', 'x'.repeat(20000), undefined, null, 42, {}, ['x'], bystander.jti]) {
        await expect(tokens.revokeToken(token, 'bogus-hint')).resolves.toBeUndefined();
      }
      expect(await probe(app, bystander.accessToken)).toBe(200);
      expect(await tokens.introspect(bystander.refreshToken)).toMatchObject({ active: true });
    });

    it('revokeToken with owner: another subject’s token is left alone; its owner’s call revokes it', async () => {
      const pair = await tokens.issue('rev.eve');
      await tokens.revokeToken(pair.refreshToken, 'refresh_token', { subject: 'rev.mallory' });
      await tokens.revokeToken(pair.accessToken, 'access_token', { subject: 'rev.mallory' });
      await tokens.revokeToken(pair.refreshToken, undefined, { subject: 'rev.mallory' });
      expect(await probe(app, pair.accessToken)).toBe(200);
      expect(await tokens.introspect(pair.refreshToken)).toMatchObject({ active: true });
      expect((await tokens.findSession(pair.sessionId))?.revokedAt).toBeNull();
      expect((await tokens.findToken(pair.jti))?.revokedAt).toBeNull();

      await tokens.revokeToken(pair.refreshToken, undefined, { subject: 'rev.eve' });
      expect(await probe(app, pair.accessToken)).toBe(401);
      expect(await tokens.introspect(pair.refreshToken)).toEqual({ active: false });
    });
  });

  describe('events', () => {
    let app: INestApplication;
    let tokens: TokenLogService;
    beforeAll(async () => {
      app = await boot(db.fresh());
      tokens = tokensOf(app);
    });
    afterAll(async () => {
      await app?.close();
    });

    it('subscribers hear issued, refreshed, revoked (scope and reason) and reuse_detected', async () => {
      const { events, stop } = collect(app);
      const first = await tokens.issue('ev.finn');
      const r0 = await refreshRowOf(app, first.refreshToken);
      const second = await tokens.refresh(first.refreshToken);
      const third = await tokens.refresh(second.refreshToken);
      await tokens.revoke(first.jti, 'admin');
      await expectInvalid(tokens.refresh(first.refreshToken)); // two generations old: reuse
      const other = await tokens.issue('ev.finn');
      await tokens.revokeSession(other.sessionId, 'session_revoked');
      await tokens.revokeAllForSubject('ev.finn');
      stop();
      await tokens.issue('ev.finn');

      expect(events).toEqual([
        { type: 'issued', subject: 'ev.finn', sessionId: first.sessionId, jti: first.jti },
        { type: 'refreshed', subject: 'ev.finn', sessionId: first.sessionId, jti: second.jti, parentJti: r0.jti },
        { type: 'refreshed', subject: 'ev.finn', sessionId: first.sessionId, jti: third.jti, parentJti: expect.any(String) },
        { type: 'revoked', scope: 'token', jti: first.jti, reason: 'admin' },
        { type: 'revoked', scope: 'session', sessionId: first.sessionId, reason: 'refresh_reuse' },
        { type: 'reuse_detected', subject: 'ev.finn', sessionId: first.sessionId, jti: r0.jti },
        { type: 'issued', subject: 'ev.finn', sessionId: other.sessionId, jti: other.jti },
        { type: 'revoked', scope: 'session', sessionId: other.sessionId, reason: 'session_revoked' },
        { type: 'revoked', scope: 'subject', subject: 'ev.finn', reason: 'logout_all' },
      ]);
      expect((events[2] as { parentJti: string }).parentJti).toBe((await refreshRowOf(app, second.refreshToken)).jti);
    });

    it('a listener that throws or rejects never breaks the call that emitted', async () => {
      const seen: string[] = [];
      const stops = [
        app.get(TokenEvents).subscribe(() => {
          throw new Error('listener boom');
        }),
        app.get(TokenEvents).subscribe(async () => {
          throw new Error('async listener boom');
        }),
        app.get(TokenEvents).subscribe((event) => {
          seen.push(event.type);
        }),
      ];
      try {
        const pair = await tokens.issue('ev.gil');
        const next = await tokens.refresh(pair.refreshToken);
        await tokens.revokeSession(next.sessionId);
        expect(seen).toEqual(['issued', 'refreshed', 'revoked']);
      } finally {
        for (const stop of stops) stop();
      }
    });
  });
});
