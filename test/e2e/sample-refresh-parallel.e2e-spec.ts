import 'reflect-metadata';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'supertest';
import { eachDatabase, twoInstancesOn } from '../support/databases.js';
import { bearer } from '../support/http.js';
import { testLogs } from '../support/logs.js';
import { login, registerAndLogin, startSample, type LoggedIn, type RunningSample } from '../support/sample-app.js';
import {
  expectDeadInSample,
  INTROSPECTION_CLIENT,
  jtiOf,
  refresh,
  REUSE_ALARM,
  sidOf,
  twoSamples,
  type Pair,
} from '../support/sample-tokens.js';
import { appForSuite } from '../support/suite-app.js';
import { within } from '../support/time.js';
import { backdateSpend, liveRefreshRows, rowsOf, sha256 } from '../support/token-rows.js';

// The two-instance race ends with a reuse, which sets off the sample's alarm.
testLogs.expect(REUSE_ALARM);

/** A catch-up every second (syncInterval: 1), plus the time to run it, with room to spare on a loaded machine. */
const SYNC_BOUND_MS = 5000;

/**
 * N refreshes with one token at once (spread over the given instances), then
 * the checks: all 200 with the same pair, one live chain, no second chain.
 */
async function parallelRefresh(instances: RunningSample[], user: LoggedIn, n: number): Promise<Pair> {
  const results: Response[] = await Promise.all(
    Array.from({ length: n }, (_, i) => refresh(instances[i % instances.length], user.refreshToken)),
  );
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

eachDatabase('refresh tokens over HTTP (sample app)', (database) => {
  const db = database();
  const twoInstances = twoInstancesOn(db);

  describe('one instance, REFRESH_REUSE_GRACE=5', () => {
    const sample = appForSuite(() => startSample(db.fresh(), { introspectionClient: INTROSPECTION_CLIENT }));

    it('16 parallel refreshes with one token: all 200 with the same pair, exactly one live chain', async () => {
      const eve = await registerAndLogin(sample.http, 'rt.eve');
      const pair = await parallelRefresh([sample], eve, 16);
      await sample.http.get('/me').set(bearer(pair.accessToken)).expect(200);
      await refresh(sample, pair.refreshToken).expect(200);
    });
  });

  describe('two instances on one database', () => {
    // A catch-up every second: the instance that did not revoke refuses within SYNC_BOUND_MS, whatever the bus.
    const samples = twoSamples(db, { syncInterval: 1 });
    afterAll(async () => {
      await samples.close();
    });

    twoInstances(
      'parallel refreshes with one token split over both instances: all get the same pair, exactly one live chain, which both guards accept until a reuse kills it',
      async () => {
        const [one, two] = await samples.start();
        const me = (instance: RunningSample, pair: Pair) => instance.http.get('/me').set(bearer(pair.accessToken));
        for (let round = 0; round < 3; round++) {
          const user = round === 0 ? await registerAndLogin(one.http, 'two.tom') : await login(one.http, 'two.tom');
          const pair = await parallelRefresh([one, two], user, 16);
          // Each instance has its own guard: the winning pair passes both.
          for (const instance of [one, two]) await me(instance, pair).expect(200);
          const next = (await refresh(two, pair.refreshToken).expect(200)).body as Pair;
          await me(one, next).expect(200);
          // The token the race spent, two generations old now: the live end inside the grace window,
          // on either instance; spent before the window, reuse, on the instance started first.
          for (const instance of [one, two])
            expect((await refresh(instance, user.refreshToken).expect(200)).body).toEqual(next);
          await backdateSpend(one.app, user.refreshToken, 6_000);
          await refresh(one, user.refreshToken).expect(401);
          // The whole session dies: at once on that instance's own guard, and on the other's within its catch-up.
          for (const dead of [user, pair, next]) await expectDeadInSample(one, dead);
          for (const dead of [user, pair, next])
            await within(SYNC_BOUND_MS, async () => (await me(two, dead)).status === 401);
          expect(testLogs.take(REUSE_ALARM)).toHaveLength(1);
        }
      },
    );
  });
});
