import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { databaseOptions } from '../../sample/config.js';
import { testLogs, typeOrmLogs } from '../support/logs.js';
import { registerAndLogin, startSample, type LoggedIn, type RunningSample } from '../support/sample-app.js';
import { proxyFor } from '../support/stall-helpers.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { within } from '../support/time.js';

/**
 * README, "The sample": a database the sample cannot reach is a 503, never a
 * 500. The sample's own calls (the users table) go through its
 * DatabaseUnavailableFilter; the module's answer 503 on their own
 * (stalled-database.e2e-spec.ts, scale-out.e2e-spec.ts). The database sits
 * behind a proxy that refuses connections (cut) or stops answering (stall).
 */
const UNAVAILABLE = { statusCode: 503, message: 'Database unavailable, retry shortly', error: 'Service Unavailable' };

// What an unreachable database makes the sample, the module and TypeORM log: provoked here on purpose.
testLogs.expect(
  /^database unavailable: /,
  /^LISTEN connection lost: /,
  /^revocation catch-up failed \(/,
  /^could not write session activity: /,
  /^token store failed: /,
  /^token check failed: /,
  /^query is slow /,
  /^Failed to close the "default" data source: /,
);

const env = {
  postgres: process.env.TEST_POSTGRES_URL,
  mariadb: process.env.TEST_MYSQL_URL?.replace(/^mysql:/, 'mariadb:'),
};

for (const name of ['postgres', 'mariadb'] as const) {
  const url = env[name];
  const title = `the sample with its database out of reach [${name}]`;
  if (!url) {
    const variable = name === 'postgres' ? 'TEST_POSTGRES_URL' : 'TEST_MYSQL_URL';
    if (process.env.CI) describe(title, () => it(`needs ${variable}: CI must run it`, () => expect(url).toBeDefined()));
    else {
      // Loud, and a skipped test rather than none: Jest fails a file that defines no test.
      console.warn(`\n*** SKIPPED: "${title}": set ${variable} to run it. ***\n`);
      describe.skip(`${title} (SKIPPED: ${variable} not set)`, () => it(`needs ${variable}`, () => undefined));
    }
    continue;
  }

  describe(title, () => {
    let proxy: TcpProxy;
    let sample: RunningSample;
    let user: LoggedIn;

    beforeAll(async () => {
      const proxied = await proxyFor(url);
      proxy = proxied.proxy;
      sample = await startSample({ ...databaseOptions(proxied.url), dropSchema: true, logger: typeOrmLogs });
      user = await registerAndLogin(sample.http, 'down.user');
      // Once through the guard while the database answers: validateSubject's answer is cached,
      // so GET /me below reaches the sample's own read of the users table.
      await sample.http.get('/me').set(user.auth).expect(200);
    }, 30_000);
    afterAll(async () => {
      proxy?.restore();
      await sample?.close();
      await proxy?.close();
    });

    /** The sample's own calls to the users table: register, login (known and unknown names), GET /me, change-password. */
    const ownCalls = () => [
      sample.http.post('/auth/register').send({ username: 'down.new', password: 'correct horse battery' }),
      sample.http.post('/auth/login').send({ username: 'down.user', password: 'correct horse battery' }),
      sample.http.post('/auth/login').send({ username: 'down.nobody', password: 'correct horse battery' }),
      sample.http.get('/me').set(user.auth),
      sample.http
        .post('/auth/change-password')
        .set(user.auth)
        .send({ currentPassword: 'correct horse battery', newPassword: 'new password 1' }),
    ];

    async function expectUnavailable(calls: ReturnType<typeof ownCalls>): Promise<void> {
      const seen = (await Promise.all(calls)).map((res) => ({
        status: res.status,
        retryAfter: res.headers['retry-after'],
        body: res.body,
      }));
      expect(seen).toEqual(calls.map(() => ({ status: 503, retryAfter: '5', body: UNAVAILABLE })));
    }

    /** Once new connections go through again, the sample serves again. */
    async function expectBack(): Promise<void> {
      proxy.restore();
      await within(
        20_000,
        async () =>
          (await sample.http.post('/auth/login').send({ username: 'down.user', password: 'correct horse battery' }))
            .status,
        (status) => status === 200,
      );
    }

    it('refusing connections: the sample answers 503 with Retry-After, never 500, and serves again once it is back', async () => {
      proxy.cut();
      try {
        await expectUnavailable(ownCalls());
      } finally {
        await expectBack();
      }
    });

    // The pooled connections stay open and silent: each call waits for the driver's query or
    // connect timeout (sample/config.ts, 5 to 6 s), all at once.
    it('hanging: the sample answers 503 with Retry-After once the driver gives up, never 500, and serves again once it is back', async () => {
      proxy.stall();
      try {
        await expectUnavailable(ownCalls());
      } finally {
        await expectBack();
      }
    }, 60_000);
  });
}
