import 'reflect-metadata';
import { afterAll, describe, expect, it } from '@jest/globals';
import { eachDatabase, twoInstancesOn } from '../support/databases.js';
import { login, registerAndLogin, startSample, type RunningSample } from '../support/sample-app.js';
import { expectDeadInSample, INTROSPECTION_CLIENT, refresh, sidOf, twoSamples } from '../support/sample-tokens.js';
import { appForSuite } from '../support/suite-app.js';
import { sleep } from '../support/time.js';
import { liveRefreshRows } from '../support/token-rows.js';

/**
 * Refresh on `refresher` and logout (or logout-all) on `revoker` at once, the
 * logout started `lag` ms later; whatever the refresh handed out must be dead.
 */
async function raceLogout(
  refresher: RunningSample,
  revoker: RunningSample,
  username: string,
  path: '/auth/logout' | '/auth/logout-all',
): Promise<void> {
  for (const lag of [0, 0, 1, 2, 4, 8]) {
    const user = await login(revoker.http, username);
    const [refreshed, loggedOut] = await Promise.all([
      refresh(refresher, user.refreshToken),
      sleep(lag).then(() => revoker.http.post(path).set(user.auth)),
    ]);
    expect(loggedOut.status).toBe(204);
    expect([200, 401]).toContain(refreshed.status);
    if (refreshed.status === 200) await expectDeadInSample(revoker, refreshed.body);
    await expectDeadInSample(revoker, user);
    expect(await liveRefreshRows(revoker.app, sidOf(user.accessToken))).toHaveLength(0);
  }
}

eachDatabase('refresh tokens over HTTP (sample app)', (database) => {
  const db = database();
  const twoInstances = twoInstancesOn(db);

  describe('one instance, REFRESH_REUSE_GRACE=5', () => {
    const sample = appForSuite(() => startSample(db.fresh(), { introspectionClient: INTROSPECTION_CLIENT }));

    it('a refresh racing logout never yields a token that survives it', async () => {
      await registerAndLogin(sample.http, 'rt.fay');
      await raceLogout(sample, sample, 'rt.fay', '/auth/logout');
    });

    it('a refresh racing logout-all never yields a token that survives it', async () => {
      await registerAndLogin(sample.http, 'rt.gus');
      await raceLogout(sample, sample, 'rt.gus', '/auth/logout-all');
    });
  });

  describe('two instances on one database', () => {
    const samples = twoSamples(db);
    afterAll(async () => {
      await samples.close();
    });

    twoInstances(
      'a refresh on one instance racing logout or logout-all on the other never yields a token that survives',
      async () => {
        const [one, two] = await samples.start();
        await registerAndLogin(one.http, 'two.uli');
        // Each instance has its own guard: `one`, started first, answers for itself.
        await raceLogout(two, one, 'two.uli', '/auth/logout');
        await registerAndLogin(one.http, 'two.val');
        await raceLogout(two, one, 'two.val', '/auth/logout-all');
      },
    );
  });
});
