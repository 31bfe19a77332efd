import 'reflect-metadata';
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { TokenEvents, type TokenEvent } from 'nestjs-jwt-revocation';
import { jwtRevocationEntitySet } from 'nestjs-jwt-revocation/testing';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { eachDatabase } from '../support/databases.js';
import { decodePart } from '../support/forge.js';
import { bearer, CHALLENGE } from '../support/http.js';
import { login, registerAndLogin, startSample, type LoggedIn, type RunningSample } from '../support/sample-app.js';
import { sleep } from '../support/time.js';
import { liveRefreshRows, refreshRowOf, rowsOf, sha256 } from '../support/token-rows.js';

/** INTROSPECTION_CLIENT_ID / INTROSPECTION_CLIENT_SECRET of the sample. */
const CLIENT = { id: 'resource-server', secret: 'introspection-secret' };
const ISSUER = 'nestjs-jwt-revocation-sample';

interface Pair {
  accessToken: string;
  refreshToken: string;
}

const sidOf = (accessToken: string) => decodePart(accessToken, 1).sid as string;
const jtiOf = (accessToken: string) => decodePart(accessToken, 1).jti as string;

function refresh(sample: RunningSample, refreshToken: string) {
  return sample.http.post('/auth/refresh').send({ refreshToken });
}

function introspect(sample: RunningSample, token: unknown, hint?: string) {
  return sample.http
    .post('/oauth/introspect')
    .auth(CLIENT.id, CLIENT.secret)
    .send(hint === undefined ? { token } : { token, token_type_hint: hint });
}

/**
 * A pair is dead on this instance and in the database: introspection (this
 * instance's memory), refresh, and the rows; with `guard`, GET /me too.
 */
async function expectDead(sample: RunningSample, pair: Pair, guard = true): Promise<void> {
  if (guard) await sample.http.get('/me').set(bearer(pair.accessToken)).expect(401);
  expect((await introspect(sample, pair.accessToken).expect(200)).body).toEqual({ active: false });
  expect((await introspect(sample, pair.refreshToken).expect(200)).body).toEqual({ active: false });
  await refresh(sample, pair.refreshToken).expect(401);
  const rows = await rowsOf(sample.app, sidOf(pair.accessToken));
  expect(rows.find((r) => r.jti === jtiOf(pair.accessToken))?.revokedAt).not.toBeNull();
  expect((await refreshRowOf(sample.app, pair.refreshToken)).revokedAt).not.toBeNull();
}

/**
 * N refreshes with one token at once (spread over the given instances), then
 * the checks: all 200 with the same pair, one live chain, no second chain.
 */
async function parallelRefresh(instances: RunningSample[], user: LoggedIn, n: number): Promise<Pair> {
  const results: Response[] = await Promise.all(Array.from({ length: n }, (_, i) => refresh(instances[i % instances.length], user.refreshToken)));
  expect(results.map((r) => r.status)).toEqual(Array(n).fill(200));
  expect(new Set(results.map((r) => r.body.refreshToken)).size).toBe(1);
  expect(new Set(results.map((r) => jtiOf(r.body.accessToken))).size).toBe(1);
  const sid = sidOf(user.accessToken);
  const rows = await rowsOf(instances[0].app, sid);
  expect(rows.filter((r) => r.tokenType === 'refresh')).toHaveLength(2);
  expect(rows.filter((r) => r.tokenType === 'access')).toHaveLength(2);
  const live = await liveRefreshRows(instances[0].app, sid);
  expect(live).toHaveLength(1);
  expect(live[0].tokenHash).toBe(sha256(results[0].body.refreshToken));
  return { accessToken: results[0].body.accessToken, refreshToken: results[0].body.refreshToken };
}

/**
 * Refresh on `refresher` and logout (or logout-all) on `revoker` at once, the
 * logout started `lag` ms later; whatever the refresh handed out must be dead.
 */
async function raceLogout(
  refresher: RunningSample,
  revoker: RunningSample,
  username: string,
  path: '/auth/logout' | '/auth/logout-all',
  guard: boolean,
): Promise<void> {
  for (const lag of [0, 0, 1, 2, 4, 8]) {
    const user = await login(revoker.http, username);
    const [refreshed, loggedOut] = await Promise.all([
      refresh(refresher, user.refreshToken),
      sleep(lag).then(() => revoker.http.post(path).set(user.auth)),
    ]);
    expect(loggedOut.status).toBe(204);
    expect([200, 401]).toContain(refreshed.status);
    if (refreshed.status === 200) await expectDead(revoker, refreshed.body, guard);
    await expectDead(revoker, user, guard);
    expect(await liveRefreshRows(revoker.app, sidOf(user.accessToken))).toHaveLength(0);
  }
}

eachDatabase('refresh tokens over HTTP (sample app)', (database) => {
  const db = database();
  // Two app instances alive at once on one database: only PostgreSQL and
  // MariaDB. SQLite is one file with one writer and no server; two apps on it
  // would test file locking, not the store's row locks.
  const twoInstances = db.name === 'sqlite' ? it.skip : it;

  describe('one instance, REFRESH_REUSE_GRACE=5', () => {
    let sample: RunningSample;
    beforeAll(async () => {
      sample = await startSample(db.fresh(), { introspectionClient: CLIENT });
    });
    afterAll(async () => {
      await sample?.close();
    });

    it('POST /auth/refresh gives a new pair in the same session, spends the old token and records the parent chain', async () => {
      const amy = await registerAndLogin(sample.http, 'rt.amy');
      const before = (await sample.http.get('/me').set(amy.auth).expect(200)).body;
      const res = await refresh(sample, amy.refreshToken).expect(200);
      expect(res.body).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String), tokenType: 'Bearer', expiresIn: 900 });
      expect(res.body.refreshToken).not.toBe(amy.refreshToken);
      const after = (await sample.http.get('/me').set(bearer(res.body.accessToken)).expect(200)).body;
      expect(after.sessionId).toBe(before.sessionId);
      expect(after.jti).not.toBe(before.jti);

      const r0 = await refreshRowOf(sample.app, amy.refreshToken);
      const r1 = await refreshRowOf(sample.app, res.body.refreshToken);
      expect(r0).toMatchObject({ sessionId: before.sessionId, parentJti: null, spentAt: expect.any(Number), revokedAt: null });
      expect(r1).toMatchObject({ sessionId: before.sessionId, parentJti: r0.jti, spentAt: null, revokedAt: null });
      const rows = await rowsOf(sample.app, before.sessionId);
      expect(rows.find((r) => r.jti === after.jti)).toMatchObject({ tokenType: 'access', parentJti: r0.jti });
      expect(await liveRefreshRows(sample.app, before.sessionId)).toHaveLength(1);
    });

    it('grace: a retry with the previous token gets the SAME pair (same refresh token, same jti), and the chain goes on', async () => {
      const ben = await registerAndLogin(sample.http, 'rt.ben');
      const a = await refresh(sample, ben.refreshToken).expect(200);
      const b = await refresh(sample, ben.refreshToken).expect(200);
      expect(b.body.refreshToken).toBe(a.body.refreshToken);
      expect(jtiOf(b.body.accessToken)).toBe(jtiOf(a.body.accessToken));
      expect(b.body).toEqual(a.body);
      await sample.http.get('/me').set(bearer(b.body.accessToken)).expect(200);
      const sid = sidOf(ben.accessToken);
      expect((await rowsOf(sample.app, sid)).filter((r) => r.tokenType === 'refresh')).toHaveLength(2);
      expect(await liveRefreshRows(sample.app, sid)).toHaveLength(1);
      const c = await refresh(sample, b.body.refreshToken).expect(200);
      await sample.http.get('/me').set(bearer(c.body.accessToken)).expect(200);
    });

    it('reuse: a token two generations old, even inside the grace window, revokes the whole session (refresh_reuse, reuse_detected)', async () => {
      const events: TokenEvent[] = [];
      const stop = sample.app.get(TokenEvents).subscribe((event) => {
        events.push(event);
      });
      try {
        const cat = await registerAndLogin(sample.http, 'rt.cat');
        const elsewhere = await login(sample.http, 'rt.cat');
        const second = (await refresh(sample, cat.refreshToken).expect(200)).body as Pair;
        const third = (await refresh(sample, second.refreshToken).expect(200)).body as Pair;
        const sid = sidOf(cat.accessToken);
        const r0 = await refreshRowOf(sample.app, cat.refreshToken);

        await refresh(sample, cat.refreshToken).expect(401);

        await expectDead(sample, third);
        await expectDead(sample, second);
        await expectDead(sample, cat);
        const rows = await rowsOf(sample.app, sid);
        expect(rows).toHaveLength(6);
        for (const row of rows) expect(row).toMatchObject({ revokedAt: expect.any(Number), revokeReason: 'refresh_reuse' });
        expect(events).toContainEqual({ type: 'reuse_detected', subject: r0.subject, sessionId: sid, jti: r0.jti });
        expect(events).toContainEqual({ type: 'revoked', scope: 'session', sessionId: sid, reason: 'refresh_reuse' });
        // The other session of the user lives on.
        await sample.http.get('/me').set(elsewhere.auth).expect(200);
        await refresh(sample, elsewhere.refreshToken).expect(200);
      } finally {
        stop();
      }
    });

    it('type confusion: an access token at /auth/refresh and a refresh token at /me are 401, and kill nothing', async () => {
      const dan = await registerAndLogin(sample.http, 'rt.dan');
      const asRefresh = await refresh(sample, dan.accessToken).expect(401);
      expect(asRefresh.body).toMatchObject({ statusCode: 401 });
      const asAccess = await sample.http.get('/me').set(bearer(dan.refreshToken)).expect(401);
      expect(asAccess.headers['www-authenticate']).toBe(CHALLENGE);
      await sample.http.get('/auth/sessions').set(bearer(dan.refreshToken)).expect(401);
      await sample.http.post('/auth/logout').set(bearer(dan.refreshToken)).expect(401);
      await sample.http.get('/me').set(dan.auth).expect(200);
      await refresh(sample, dan.refreshToken).expect(200);
    });

    it('16 parallel refreshes with one token: all 200 with the same pair, exactly one live chain', async () => {
      const eve = await registerAndLogin(sample.http, 'rt.eve');
      const pair = await parallelRefresh([sample], eve, 16);
      await sample.http.get('/me').set(bearer(pair.accessToken)).expect(200);
      await refresh(sample, pair.refreshToken).expect(200);
    });

    it('a refresh racing logout never yields a token that survives it', async () => {
      await registerAndLogin(sample.http, 'rt.fay');
      await raceLogout(sample, sample, 'rt.fay', '/auth/logout', true);
    });

    it('a refresh racing logout-all never yields a token that survives it', async () => {
      await registerAndLogin(sample.http, 'rt.gus');
      await raceLogout(sample, sample, 'rt.gus', '/auth/logout-all', true);
    });

    describe('POST /oauth/revoke (RFC 7009)', () => {
      it('a form-encoded refresh token: 200 {}, and its whole session dies', async () => {
        const hal = await registerAndLogin(sample.http, 'rv.hal');
        const other = await login(sample.http, 'rv.hal');
        const res = await sample.http.post('/oauth/revoke').type('form').send({ token: hal.refreshToken, token_type_hint: 'refresh_token' }).expect(200);
        expect(res.body).toEqual({});
        await expectDead(sample, hal);
        const session = await sample.app.get(DataSource).getRepository(jwtRevocationEntitySet().session).findOneBy({ sessionId: sidOf(hal.accessToken) });
        expect(session).toMatchObject({ revokeReason: 'logout', revokedAt: expect.any(Number) });
        await sample.http.get('/me').set(other.auth).expect(200);
      });

      it('a JSON access token: 200 {}, that token dies', async () => {
        const ida = await registerAndLogin(sample.http, 'rv.ida');
        await sample.http.post('/oauth/revoke').send({ token: ida.accessToken, token_type_hint: 'access_token' }).expect(200, {});
        await sample.http.get('/me').set(ida.auth).expect(401);
        expect((await introspect(sample, ida.accessToken)).body).toEqual({ active: false });
      });

      it('a wrong hint still finds the token', async () => {
        const jo = await registerAndLogin(sample.http, 'rv.jo');
        await sample.http.post('/oauth/revoke').type('form').send({ token: jo.refreshToken, token_type_hint: 'access_token' }).expect(200, {});
        await expectDead(sample, jo);
        const kai = await registerAndLogin(sample.http, 'rv.kai');
        await sample.http.post('/oauth/revoke').send({ token: kai.accessToken, token_type_hint: 'refresh_token' }).expect(200, {});
        await sample.http.get('/me').set(kai.auth).expect(401);
      });

      it('unknown, garbage, malformed and already revoked tokens: 200 {} and nothing else is revoked', async () => {
        const lou = await registerAndLogin(sample.http, 'rv.lou');
        const gone = await login(sample.http, 'rv.lou');
        await sample.http.post('/oauth/revoke').send({ token: gone.refreshToken }).expect(200, {});
        const bodies: Array<[string, unknown]> = [
          ['json', { token: gone.refreshToken }],
          ['json', { token: gone.accessToken, token_type_hint: 'access_token' }],
          ['json', { token: 'never-issued' }],
          ['json', { token: 'a.b.c', token_type_hint: 'bogus' }],
          ['json', { token: '' }],
          ['json', { token: 42 }],
          ['json', { token: ['x'] }],
          ['json', {}],
          ['json', []],
          ['form', { token: 'x'.repeat(9000) }],
          ['form', { token: 'garbage%%', token_type_hint: 'refresh_token' }],
          ['form', {}],
        ];
        for (const [type, body] of bodies) {
          const req = sample.http.post('/oauth/revoke');
          const res = await (type === 'form' ? req.type('form').send(body as Record<string, string>) : req.send(body as object));
          expect(res.status).toBe(200);
          expect(res.body).toEqual({});
        }
        await sample.http.get('/me').set(lou.auth).expect(200);
        await refresh(sample, lou.refreshToken).expect(200);
      });
    });

    describe('POST /oauth/introspect (RFC 7662)', () => {
      it('needs the client credentials: 401 without, with wrong ones or a malformed header', async () => {
        const max = await registerAndLogin(sample.http, 'in.max');
        await sample.http.post('/oauth/introspect').send({ token: max.accessToken }).expect(401);
        await sample.http.post('/oauth/introspect').auth(CLIENT.id, 'wrong').send({ token: max.accessToken }).expect(401);
        await sample.http.post('/oauth/introspect').auth('someone-else', CLIENT.secret).send({ token: max.accessToken }).expect(401);
        await sample.http.post('/oauth/introspect').set('Authorization', 'Basic !!!').send({ token: max.accessToken }).expect(401);
        await sample.http.post('/oauth/introspect').set('Authorization', `Basic ${Buffer.from('%zz:%zz').toString('base64')}`).send({ token: max.accessToken }).expect(401);
        await sample.http.post('/oauth/introspect').set(max.auth).send({ token: max.accessToken }).expect(401);
      });

      it('active access and refresh tokens: active, sub, exp, iat, jti, token_type, sid (form-encoded or JSON, any hint)', async () => {
        const ned = await registerAndLogin(sample.http, 'in.ned');
        const me = (await sample.http.get('/me').set(ned.auth).expect(200)).body;
        const claims = decodePart(ned.accessToken, 1);
        const access = { active: true, token_type: 'access_token', sub: me.id, jti: me.jti, sid: me.sessionId, iat: claims.iat, exp: claims.exp, iss: ISSUER };
        expect((await introspect(sample, ned.accessToken).expect(200)).body).toEqual(access);
        expect((await introspect(sample, ned.accessToken, 'refresh_token').expect(200)).body).toEqual(access);
        const form = await sample.http.post('/oauth/introspect').auth(CLIENT.id, CLIENT.secret).type('form').send({ token: ned.accessToken }).expect(200);
        expect(form.body).toEqual(access);

        const row = await refreshRowOf(sample.app, ned.refreshToken);
        const refreshAnswer = (await introspect(sample, ned.refreshToken).expect(200)).body;
        expect(refreshAnswer).toEqual({
          active: true,
          token_type: 'refresh_token',
          sub: me.id,
          // No jti for a refresh token: its row id keys the successor and stays server-side.
          sid: me.sessionId,
          iat: Math.floor(row.issuedAt / 1000),
          exp: Math.floor(row.expiresAt / 1000),
        });
        expect((await introspect(sample, ned.refreshToken, 'access_token').expect(200)).body).toEqual(refreshAnswer);
      });

      it('inactive tokens (spent, revoked, unknown, garbage) give exactly { active: false }', async () => {
        const ola = await registerAndLogin(sample.http, 'in.ola');
        const next = (await refresh(sample, ola.refreshToken).expect(200)).body as Pair;
        const gone = await login(sample.http, 'in.ola');
        await sample.http.post('/auth/logout').set(gone.auth).expect(204);
        for (const token of [ola.refreshToken, gone.accessToken, gone.refreshToken, 'never-issued', 'a.b.c', '', 42, undefined]) {
          const res = await introspect(sample, token).expect(200);
          expect(res.body).toEqual({ active: false });
        }
        expect((await introspect(sample, next.refreshToken).expect(200)).body).toMatchObject({ active: true });
        await sample.http.post('/auth/logout-all').set(bearer(next.accessToken)).expect(204);
        expect((await introspect(sample, next.accessToken).expect(200)).body).toEqual({ active: false });
        expect((await introspect(sample, next.refreshToken).expect(200)).body).toEqual({ active: false });
      });
    });
  });

  describe('REFRESH_REUSE_GRACE=1', () => {
    let sample: RunningSample;
    beforeAll(async () => {
      sample = await startSample(db.fresh(), { refreshReuseGrace: 1, introspectionClient: CLIENT });
    });
    afterAll(async () => {
      await sample?.close();
    });

    it('after the grace window the previous token is reuse: the whole session dies, the newest pair included', async () => {
      const pia = await registerAndLogin(sample.http, 'g1.pia');
      const next = (await refresh(sample, pia.refreshToken).expect(200)).body as Pair;
      await sleep(1300);
      await refresh(sample, pia.refreshToken).expect(401);
      await expectDead(sample, next);
      const rows = await rowsOf(sample.app, sidOf(pia.accessToken));
      for (const row of rows) expect(row.revokeReason).toBe('refresh_reuse');
    });
  });

  describe('REFRESH_REUSE_GRACE=0, no introspection client', () => {
    let sample: RunningSample;
    beforeAll(async () => {
      sample = await startSample(db.fresh(), { refreshReuseGrace: 0 });
    });
    afterAll(async () => {
      await sample?.close();
    });

    it('the previous token presented again is reuse at once', async () => {
      const quin = await registerAndLogin(sample.http, 'g0.quin');
      const next = (await refresh(sample, quin.refreshToken).expect(200)).body as Pair;
      await refresh(sample, quin.refreshToken).expect(401);
      await sample.http.get('/me').set(bearer(next.accessToken)).expect(401);
      await refresh(sample, next.refreshToken).expect(401);
      const rows = await rowsOf(sample.app, sidOf(quin.accessToken));
      for (const row of rows) expect(row.revokeReason).toBe('refresh_reuse');
    });

    it('parallel refreshes with one token are reuse: the duplicate gets no pair and the session dies', async () => {
      const rex = await registerAndLogin(sample.http, 'g0.rex');
      const results = await Promise.all(Array.from({ length: 4 }, () => refresh(sample, rex.refreshToken)));
      for (const r of results) expect([200, 401]).toContain(r.status);
      expect(results.filter((r) => r.status === 200).length).toBeLessThanOrEqual(1);
      const rows = await rowsOf(sample.app, sidOf(rex.accessToken));
      for (const row of rows) expect(row.revokeReason).toBe('refresh_reuse');
    });

    it('POST /oauth/introspect with no client configured is 401 whatever the credentials', async () => {
      const sue = await registerAndLogin(sample.http, 'g0.sue');
      await sample.http.post('/oauth/introspect').send({ token: sue.accessToken }).expect(401);
      await introspect(sample, sue.accessToken).expect(401);
      await sample.http.post('/oauth/introspect').auth('', '').send({ token: sue.accessToken }).expect(401);
    });
  });

  describe('two instances on one database', () => {
    let a: RunningSample | undefined;
    let b: RunningSample | undefined;
    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    async function start(): Promise<[RunningSample, RunningSample]> {
      if (!a || !b) {
        a = await startSample(db.fresh(), { introspectionClient: CLIENT });
        b = await startSample(db.reopen(), { introspectionClient: CLIENT });
      }
      return [a, b];
    }

    twoInstances('parallel refreshes with one token split over both instances: all get the same pair, exactly one live chain', async () => {
      const [one, two] = await start();
      for (let round = 0; round < 3; round++) {
        const user = round === 0 ? await registerAndLogin(one.http, 'two.tom') : await login(one.http, 'two.tom');
        const pair = await parallelRefresh([one, two], user, 16);
        await refresh(two, pair.refreshToken).expect(200);
      }
    });

    twoInstances('a refresh on one instance racing logout or logout-all on the other never yields a token that survives', async () => {
      const [one, two] = await start();
      await registerAndLogin(one.http, 'two.uli');
      // `one` was started first, so its requests go through `two`'s strategy: no guard checks on `one` (see expectDead).
      await raceLogout(two, one, 'two.uli', '/auth/logout', false);
      await registerAndLogin(one.http, 'two.val');
      await raceLogout(two, one, 'two.val', '/auth/logout-all', false);
    });
  });
});
