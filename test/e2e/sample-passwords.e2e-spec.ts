import { afterEach, expect, it, jest } from '@jest/globals';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { configFromEnv } from '../../sample/config.js';
import { passwordCrypto } from '../../sample/users/password.js';
import { User } from '../../sample/users/user.entity.js';
import { eachDatabase } from '../support/databases.js';
import { TEST_SECRET } from '../support/keys.js';
import { legacyHash } from '../support/legacy-password.js';
import { login, startSample, type RunningSample } from '../support/sample-app.js';

eachDatabase('sample password storage', (database) => {
  let sample: RunningSample | undefined;
  afterEach(async () => {
    jest.restoreAllMocks();
    await sample?.close();
    sample = undefined;
  });

  const users = (running: RunningSample) => running.app.get<DataSource>(getDataSourceToken()).getRepository(User);
  const storedHash = async (running: RunningSample, username: string) =>
    (await users(running).findOneByOrFail({ username })).passwordHash;

  it('hashes new passwords with scrypt N = 2^17, r = 8, p = 1 by default, parameters in the hash', async () => {
    sample = await startSample(database().fresh(), {
      passwordHashCost: configFromEnv({ JWT_SECRET: TEST_SECRET }).passwordHashCost,
    });
    await sample.http
      .post('/auth/register')
      .send({ username: 'hash.new', password: 'correct horse battery' })
      .expect(201);
    expect(await storedHash(sample, 'hash.new')).toMatch(
      /^scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{86}$/,
    );
    await login(sample.http, 'hash.new');
  });

  it('logs in a user whose hash is in the old format, then stores the current parameters', async () => {
    sample = await startSample(database().fresh(), { passwordHashCost: 17 });
    await sample.http.post('/auth/register').send({ username: 'hash.legacy', password: 'placeholder pw' }).expect(201);
    const legacy = legacyHash('old password');
    await users(sample).update({ username: 'hash.legacy' }, { passwordHash: legacy });

    await sample.http.post('/auth/login').send({ username: 'hash.legacy', password: 'wrong password' }).expect(401);
    expect(await storedHash(sample, 'hash.legacy')).toBe(legacy);
    await login(sample.http, 'hash.legacy', 'old password');
    const upgraded = await storedHash(sample, 'hash.legacy');
    expect(upgraded).toMatch(/^scrypt\$ln=17,r=8,p=1\$/);
    // The new hash is the same password, and the old one is gone.
    await login(sample.http, 'hash.legacy', 'old password');
    await sample.http.post('/auth/login').send({ username: 'hash.legacy', password: 'wrong password' }).expect(401);
    expect(await storedHash(sample, 'hash.legacy')).toBe(upgraded);
  });

  it('never downgrades: with a cost below the stored one, the hash stays', async () => {
    sample = await startSample(database().fresh(), { passwordHashCost: 10 });
    await sample.http.post('/auth/register').send({ username: 'hash.keep', password: 'placeholder pw' }).expect(201);
    const legacy = legacyHash('old password');
    await users(sample).update({ username: 'hash.keep' }, { passwordHash: legacy });
    await login(sample.http, 'hash.keep', 'old password');
    expect(await storedHash(sample, 'hash.keep')).toBe(legacy);
  });

  it('a malformed stored hash is a 401 for login and a 403 for change-password, never a 500', async () => {
    sample = await startSample(database().fresh());
    await sample.http
      .post('/auth/register')
      .send({ username: 'hash.broken', password: 'correct horse battery' })
      .expect(201);
    const user = await login(sample.http, 'hash.broken');
    for (const broken of [
      '',
      'garbage',
      'scrypt$ln=60,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA',
      'scrypt$$$',
    ]) {
      await users(sample).update({ username: 'hash.broken' }, { passwordHash: broken });
      await sample.http
        .post('/auth/login')
        .send({ username: 'hash.broken', password: 'correct horse battery' })
        .expect(401);
      await sample.http
        .post('/auth/change-password')
        .set(user.auth)
        .send({ currentPassword: 'correct horse battery', newPassword: 'new password 1' })
        .expect(403);
    }
  });

  it('an unknown username costs one scrypt run at the current cost, as a wrong password does', async () => {
    // Not a default cost, and not the cheapest: a dummy hash at a fixed or stale cost shows.
    sample = await startSample(database().fresh(), { passwordHashCost: 11 });
    const running = sample;
    await running.http.post('/auth/register').send({ username: 'hash.known', password: 'placeholder pw' }).expect(201);
    const derive = jest.spyOn(passwordCrypto, 'scrypt');
    const compare = jest.spyOn(passwordCrypto, 'timingSafeEqual');
    /** The key derivations and comparisons one failed login makes. */
    const failedLogin = async (username: string) => {
      derive.mockClear();
      compare.mockClear();
      await running.http.post('/auth/login').send({ username, password: 'wrong password' }).expect(401);
      return {
        derivations: derive.mock.calls.map(([, salt, keyLength, options]) => ({
          saltBytes: Buffer.from(salt as Uint8Array).length,
          keyLength,
          N: options.N,
          r: options.r,
          p: options.p,
        })),
        comparisons: compare.mock.calls.length,
      };
    };

    const wrongPassword = await failedLogin('hash.known');
    expect(wrongPassword).toEqual({
      derivations: [{ saltBytes: 16, keyLength: 64, N: 2 ** 11, r: 8, p: 1 }],
      comparisons: 1,
    });
    expect(await failedLogin('hash.nobody')).toEqual(wrongPassword);
  });
});
