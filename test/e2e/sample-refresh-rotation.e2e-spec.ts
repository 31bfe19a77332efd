import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { TokenEvents, type TokenEvent } from 'nestjs-jwt-revocation';
import { eachDatabase } from '../support/databases.js';
import { bearer, CHALLENGE } from '../support/http.js';
import { testLogs } from '../support/logs.js';
import { login, registerAndLogin, startSample } from '../support/sample-app.js';
import {
  expectDeadInSample,
  INTROSPECTION_CLIENT,
  jtiOf,
  refresh,
  REUSE_ALARM,
  sidOf,
  type Pair,
} from '../support/sample-tokens.js';
import { appForSuite } from '../support/suite-app.js';
import { backdateSpend, liveRefreshRows, refreshRowOf, rowsOf } from '../support/token-rows.js';

testLogs.expect(REUSE_ALARM);

eachDatabase('refresh tokens over HTTP (sample app)', (database) => {
  const db = database();

  describe('one instance, REFRESH_REUSE_GRACE=5', () => {
    const sample = appForSuite(() => startSample(db.fresh(), { introspectionClient: INTROSPECTION_CLIENT }));

    it('POST /auth/refresh gives a new pair in the same session, spends the old token and records the parent chain', async () => {
      const amy = await registerAndLogin(sample.http, 'rt.amy');
      const before = (await sample.http.get('/me').set(amy.auth).expect(200)).body;
      const res = await refresh(sample, amy.refreshToken).expect(200);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
      });
      expect(res.body.refreshToken).not.toBe(amy.refreshToken);
      const after = (await sample.http.get('/me').set(bearer(res.body.accessToken)).expect(200)).body;
      expect(after.sessionId).toBe(before.sessionId);
      expect(after.jti).not.toBe(before.jti);

      const r0 = await refreshRowOf(sample.app, amy.refreshToken);
      const r1 = await refreshRowOf(sample.app, res.body.refreshToken);
      expect(r0).toMatchObject({
        sessionId: before.sessionId,
        parentJti: null,
        spentAt: expect.any(Number),
        revokedAt: null,
      });
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
      // The first token again, two generations old now and still inside the window: the live end (c), one chain.
      const late = await refresh(sample, ben.refreshToken).expect(200);
      expect(late.body).toEqual(c.body);
      expect(await liveRefreshRows(sample.app, sid)).toHaveLength(1);
    });

    it('reuse: a token spent before the grace window, two generations old, revokes the whole session (refresh_reuse, reuse_detected)', async () => {
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
        // Inside the window it would get the live end of the chain (third): see the grace tests.
        await backdateSpend(sample.app, cat.refreshToken, 6_000);

        await refresh(sample, cat.refreshToken).expect(401);

        await expectDeadInSample(sample, third);
        await expectDeadInSample(sample, second);
        await expectDeadInSample(sample, cat);
        const rows = await rowsOf(sample.app, sid);
        expect(rows).toHaveLength(6);
        for (const row of rows)
          expect(row).toMatchObject({ revokedAt: expect.any(Number), revokeReason: 'refresh_reuse' });
        expect(events).toContainEqual({ type: 'reuse_detected', subject: r0.subject, sessionId: sid, jti: r0.jti });
        expect(events).toContainEqual({ type: 'revoked', scope: 'session', sessionId: sid, reason: 'refresh_reuse' });
        // The sample's alarm tells someone, once.
        expect(testLogs.take(REUSE_ALARM)).toEqual([
          {
            level: 'warn',
            context: 'Security',
            message: `refresh token reuse in session ${sid} of user ${r0.subject}: session revoked`,
          },
        ]);
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
  });
});
