import 'reflect-metadata';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Response } from 'supertest';
import { eachDatabase, twoInstancesOn } from '../support/databases.js';
import { bearer } from '../support/http.js';
import { login, registerAndLogin, startSample, type LoggedIn, type RunningSample } from '../support/sample-app.js';
import { INTROSPECTION_CLIENT, jtiOf, refresh, sidOf, twoSamples, type Pair } from '../support/sample-tokens.js';
import { appForSuite } from '../support/suite-app.js';
import { liveRefreshRows, rowsOf, sha256 } from '../support/token-rows.js';

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
    const samples = twoSamples(db);
    afterAll(async () => {
      await samples.close();
    });

    twoInstances(
      'parallel refreshes with one token split over both instances: all get the same pair, exactly one live chain',
      async () => {
        const [one, two] = await samples.start();
        for (let round = 0; round < 3; round++) {
          const user = round === 0 ? await registerAndLogin(one.http, 'two.tom') : await login(one.http, 'two.tom');
          const pair = await parallelRefresh([one, two], user, 16);
          await refresh(two, pair.refreshToken).expect(200);
        }
      },
    );
  });
});
