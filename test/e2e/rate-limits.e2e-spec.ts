import { afterEach, describe, expect, it } from '@jest/globals';
import { TokenLogService } from 'nestjs-jwt-revocation';
import { UsersService } from '../../sample/users/users.service.js';
import { tempSqliteDatabase } from '../support/databases.js';
import { registerAndLogin, startSample, type RunningSample } from '../support/sample-app.js';

const wrongChange = { currentPassword: 'not my password', newPassword: 'whatever new one' };

// The limits live in memory: one database (SQLite) is enough, a fresh one per app.
describe('sample rate limits', () => {
  let sample: RunningSample | undefined;
  afterEach(async () => {
    await sample?.close();
    sample = undefined;
  });

  /** A user with an access token, made without HTTP: only the requests under test spend the per-IP budget. */
  async function userWithToken(running: RunningSample, username: string, password = 'correct horse battery') {
    const user = await running.app.get(UsersService).register(username, password);
    const tokens = await running.app.get(TokenLogService).issue(user.id);
    return { Authorization: `Bearer ${tokens.accessToken}` };
  }

  describe('POST /auth/change-password', () => {
    it('per account: past PASSWORD_RATE_LIMIT a user gets 429 with Retry-After, even with the right password; another user is unaffected', async () => {
      sample = await startSample(tempSqliteDatabase(), { authRateLimit: 100, passwordRateLimit: 3 });
      const mallory = await registerAndLogin(sample.http, 'limit.mallory', 'right password 1');
      const bob = await registerAndLogin(sample.http, 'limit.bob', 'right password 2');

      for (let i = 0; i < 3; i++)
        await sample.http.post('/auth/change-password').set(mallory.auth).send(wrongChange).expect(403);
      const blocked = await sample.http.post('/auth/change-password').set(mallory.auth).send(wrongChange).expect(429);
      expect(blocked.body).toEqual({
        statusCode: 429,
        message: 'Too many attempts, retry later',
        error: 'Too Many Requests',
      });
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(60);
      // The oracle is shut: the right password no longer tells 204 from 403.
      await sample.http
        .post('/auth/change-password')
        .set(mallory.auth)
        .send({ currentPassword: 'right password 1', newPassword: 'new password 1' })
        .expect(429);

      await sample.http.post('/auth/change-password').set(bob.auth).send(wrongChange).expect(403);
      await sample.http
        .post('/auth/change-password')
        .set(bob.auth)
        .send({ currentPassword: 'right password 2', newPassword: 'new password 2' })
        .expect(204);
    });

    it('per client IP: past AUTH_RATE_LIMIT, 429 for a fresh account too, and login from that address shares the budget', async () => {
      sample = await startSample(tempSqliteDatabase(), { authRateLimit: 4, passwordRateLimit: 100 });
      const accounts = [];
      for (let i = 0; i < 5; i++) accounts.push(await userWithToken(sample, `ip.user${i}`));

      for (const auth of accounts.slice(0, 4))
        await sample.http.post('/auth/change-password').set(auth).send(wrongChange).expect(403);
      const blocked = await sample.http.post('/auth/change-password').set(accounts[4]).send(wrongChange).expect(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      await sample.http
        .post('/auth/login')
        .send({ username: 'ip.user0', password: 'correct horse battery' })
        .expect(429);
    });

    it('still needs a valid access token first: 401 without one, and it spends no budget', async () => {
      sample = await startSample(tempSqliteDatabase(), { authRateLimit: 100, passwordRateLimit: 1 });
      await sample.http.post('/auth/change-password').send(wrongChange).expect(401);
      const auth = await userWithToken(sample, 'limit.trent');
      await sample.http.post('/auth/change-password').set(auth).send(wrongChange).expect(403);
    });
  });

  it('POST /oauth/revoke: past REVOKE_RATE_LIMIT per client IP, 429 with Retry-After; the login budget is untouched', async () => {
    sample = await startSample(tempSqliteDatabase(), { authRateLimit: 2, revokeRateLimit: 3 });
    for (let i = 0; i < 3; i++)
      await sample.http
        .post('/oauth/revoke')
        .type('form')
        .send({ token: `unknown-${i}` })
        .expect(200);
    const blocked = await sample.http.post('/oauth/revoke').send({ token: 'unknown-3' }).expect(429);
    expect(blocked.body).toMatchObject({ statusCode: 429 });
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    await sample.http
      .post('/auth/register')
      .send({ username: 'revoke.user', password: 'correct horse battery' })
      .expect(201);
  });

  it('login, register and refresh keep one per-IP budget (AUTH_RATE_LIMIT)', async () => {
    sample = await startSample(tempSqliteDatabase(), { authRateLimit: 3 });
    await sample.http
      .post('/auth/register')
      .send({ username: 'budget.user', password: 'correct horse battery' })
      .expect(201);
    await sample.http.post('/auth/login').send({ username: 'budget.user', password: 'wrong password' }).expect(401);
    await sample.http.post('/auth/refresh').send({ refreshToken: 'unknown-token' }).expect(401);
    await sample.http
      .post('/auth/login')
      .send({ username: 'budget.user', password: 'correct horse battery' })
      .expect(429);
    await sample.http.post('/auth/refresh').send({ refreshToken: 'unknown-token' }).expect(429);
  });
});
