import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import request from 'supertest';
import { createApp } from '../../sample/app.js';
import type { SampleConfig } from '../../sample/config.js';
import { TEST_SECRET } from './keys.js';
import { testLogs } from './logs.js';

export { TEST_SECRET };

export interface RunningSample {
  app: INestApplication;
  http: ReturnType<typeof request>;
  close(): Promise<void>;
}

/** The sample app, as `npm start` builds it, on the given database, listening on a real socket; it logs to `testLogs`. */
export async function startSample(
  database: TypeOrmModuleOptions,
  overrides: Partial<SampleConfig> = {},
): Promise<RunningSample> {
  const config: SampleConfig = {
    port: 0,
    database,
    jwtSecret: TEST_SECRET,
    accessTokenTtl: 900,
    refreshTokenTtl: 86_400,
    refreshReuseGrace: 5,
    syncInterval: 5,
    maxStaleness: 30,
    failClosed: true,
    // Limits out of the way: a suite that tests one sets it.
    authRateLimit: 100_000,
    passwordRateLimit: 100_000,
    revokeRateLimit: 100_000,
    // Hundreds of logins per run: a cheap hash (N = 2^10) instead of the default 2^17.
    passwordHashCost: 10,
    propagation: 'auto',
    introspectionClient: null,
    ...overrides,
  };
  const app = await createApp(config, testLogs);
  await app.listen(0, '127.0.0.1');
  const http = request(app.getHttpServer());
  return { app, http, close: () => app.close() };
}

export interface LoggedIn {
  accessToken: string;
  refreshToken: string;
  auth: { Authorization: string };
}

export async function registerAndLogin(
  http: RunningSample['http'],
  username: string,
  password = 'correct horse battery',
): Promise<LoggedIn> {
  await http.post('/auth/register').send({ username, password }).expect(201);
  return login(http, username, password);
}

export async function login(
  http: RunningSample['http'],
  username: string,
  password = 'correct horse battery',
  agent = 'jest',
): Promise<LoggedIn> {
  const res = await http.post('/auth/login').set('User-Agent', agent).send({ username, password }).expect(200);
  return {
    accessToken: res.body.accessToken,
    refreshToken: res.body.refreshToken,
    auth: { Authorization: `Bearer ${res.body.accessToken}` },
  };
}
