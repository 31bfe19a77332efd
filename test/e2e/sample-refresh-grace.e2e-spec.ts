import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { eachDatabase } from '../support/databases.js';
import { bearer } from '../support/http.js';
import { testLogs } from '../support/logs.js';
import { registerAndLogin, startSample } from '../support/sample-app.js';
import {
  expectDeadInSample,
  INTROSPECTION_CLIENT,
  refresh,
  REUSE_ALARM,
  sidOf,
  type Pair,
} from '../support/sample-tokens.js';
import { appForSuite } from '../support/suite-app.js';
import { sleep } from '../support/time.js';
import { rowsOf } from '../support/token-rows.js';

// Every reuse here sets off the sample's alarm.
testLogs.expect(REUSE_ALARM);

eachDatabase('refresh tokens over HTTP (sample app)', (database) => {
  const db = database();

  describe('REFRESH_REUSE_GRACE=1', () => {
    const sample = appForSuite(() =>
      startSample(db.fresh(), { refreshReuseGrace: 1, introspectionClient: INTROSPECTION_CLIENT }),
    );

    it('after the grace window the previous token is reuse: the whole session dies, the newest pair included', async () => {
      const pia = await registerAndLogin(sample.http, 'g1.pia');
      const next = (await refresh(sample, pia.refreshToken).expect(200)).body as Pair;
      await sleep(1300);
      await refresh(sample, pia.refreshToken).expect(401);
      await expectDeadInSample(sample, next);
      const rows = await rowsOf(sample.app, sidOf(pia.accessToken));
      for (const row of rows) expect(row.revokeReason).toBe('refresh_reuse');
    });
  });

  describe('REFRESH_REUSE_GRACE=0', () => {
    const sample = appForSuite(() => startSample(db.fresh(), { refreshReuseGrace: 0 }));

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
  });
});
