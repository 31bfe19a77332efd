import { expect } from '@jest/globals';
import type { SampleConfig } from '../../sample/config.js';
import type { TestDatabase } from './databases.js';
import { decodePart } from './forge.js';
import { bearer } from './http.js';
import { startSample, type RunningSample } from './sample-app.js';
import { refreshRowOf, rowsOf } from './token-rows.js';

/** The sample's token endpoints over HTTP, for the suites that drive them (test/e2e/sample-*). */

/** INTROSPECTION_CLIENT_ID / INTROSPECTION_CLIENT_SECRET of the sample. */
export const INTROSPECTION_CLIENT = { id: 'resource-server', secret: 'introspection-secret' };
/** What the sample's ReuseAlarm logs (a warning, context "Security") when a refresh token is reused. */
export const REUSE_ALARM = /^refresh token reuse in session \S+ of user \S+: session revoked$/;

/** The issuer (iss) of the sample's access tokens. */
export const SAMPLE_ISSUER = 'nestjs-jwt-revocation-sample';

export interface Pair {
  accessToken: string;
  refreshToken: string;
}

export const sidOf = (accessToken: string) => decodePart(accessToken, 1).sid as string;
export const jtiOf = (accessToken: string) => decodePart(accessToken, 1).jti as string;

/** POST /auth/refresh. */
export function refresh(sample: RunningSample, refreshToken: string) {
  return sample.http.post('/auth/refresh').send({ refreshToken });
}

/** POST /oauth/introspect as the introspection client. */
export function introspect(sample: RunningSample, token: unknown, hint?: string) {
  return sample.http
    .post('/oauth/introspect')
    .auth(INTROSPECTION_CLIENT.id, INTROSPECTION_CLIENT.secret)
    .send(hint === undefined ? { token } : { token, token_type_hint: hint });
}

/**
 * A pair is dead on this instance and in the database: GET /me (its guard),
 * introspection (its memory), refresh, and the rows.
 */
export async function expectDeadInSample(sample: RunningSample, pair: Pair): Promise<void> {
  await sample.http.get('/me').set(bearer(pair.accessToken)).expect(401);
  expect((await introspect(sample, pair.accessToken).expect(200)).body).toEqual({ active: false });
  expect((await introspect(sample, pair.refreshToken).expect(200)).body).toEqual({ active: false });
  await refresh(sample, pair.refreshToken).expect(401);
  const rows = await rowsOf(sample.app, sidOf(pair.accessToken));
  expect(rows.find((r) => r.jti === jtiOf(pair.accessToken))?.revokedAt).not.toBeNull();
  expect((await refreshRowOf(sample.app, pair.refreshToken)).revokedAt).not.toBeNull();
}

/** Two instances of the sample on one database, both with `overrides`, started on first use (so a suite that skips them starts nothing). */
export function twoSamples(
  db: TestDatabase,
  overrides: Partial<SampleConfig> = {},
): {
  start(): Promise<[RunningSample, RunningSample]>;
  close(): Promise<void>;
} {
  let a: RunningSample | undefined;
  let b: RunningSample | undefined;
  return {
    async start() {
      if (!a || !b) {
        a = await startSample(db.fresh(), { introspectionClient: INTROSPECTION_CLIENT, ...overrides });
        b = await startSample(db.reopen(), { introspectionClient: INTROSPECTION_CLIENT, ...overrides });
      }
      return [a, b];
    },
    async close() {
      await b?.close();
      await a?.close();
    },
  };
}
