import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { tempSqliteDatabase } from '../support/databases.js';
import { registerAndLogin, startSample, type LoggedIn, type RunningSample } from '../support/sample-app.js';

/** README, "The sample": helmet-style headers on every response, and no X-Powered-By. */
function expectSecurityHeaders(res: { status: number; headers: Record<string, string | undefined> }): void {
  const { headers } = res;
  const seen = {
    status: res.status,
    hsts: headers['strict-transport-security'],
    csp: headers['content-security-policy']?.split(';').map((directive) => directive.trim()),
    nosniff: headers['x-content-type-options'],
    frames: headers['x-frame-options'],
    cache: headers['cache-control'],
    poweredBy: headers['x-powered-by'],
  };
  expect(seen).toEqual({
    status: seen.status,
    hsts: expect.stringMatching(/^max-age=[0-9]+(; includeSubDomains)?$/),
    csp: expect.arrayContaining(["default-src 'none'"]),
    nosniff: 'nosniff',
    frames: 'DENY',
    cache: 'no-store',
    poweredBy: undefined,
  });
  // At least 180 days: a short max-age lets a downgrade through as soon as it lapses.
  expect(Number(/max-age=([0-9]+)/.exec(seen.hsts ?? '')?.[1])).toBeGreaterThanOrEqual(15_552_000);
}

describe('sample security headers', () => {
  let sample: RunningSample;
  let user: LoggedIn;

  beforeAll(async () => {
    sample = await startSample(tempSqliteDatabase(), { revokeRateLimit: 1 });
    user = await registerAndLogin(sample.http, 'headers.user');
  });
  afterAll(async () => {
    await sample?.close();
  });

  it('on answers: 200, 201 and 204, tokens included', async () => {
    const responses = [
      await sample.http.get('/health'),
      await sample.http.post('/auth/register').send({ username: 'headers.other', password: 'correct horse battery' }),
      await sample.http.post('/auth/login').send({ username: 'headers.other', password: 'correct horse battery' }),
      await sample.http.get('/me').set(user.auth),
      await sample.http.post('/auth/logout').set(user.auth),
    ];
    expect(responses.map((res) => res.status)).toEqual([200, 201, 200, 200, 204]);
    for (const res of responses) expectSecurityHeaders(res);
  });

  it("on errors: the app's own (400, 401, 403, 404, 429) and the body parser's (400, 413)", async () => {
    const other = await registerAndLogin(sample.http, 'headers.third');
    const responses = [
      await sample.http.post('/auth/login').send({ username: 'headers.other' }),
      await sample.http.post('/auth/login').set('Content-Type', 'application/json').send('{"username":'),
      await sample.http.get('/me'),
      await sample.http
        .post('/auth/change-password')
        .set(other.auth)
        .send({ currentPassword: 'wrong password', newPassword: 'new password 1' }),
      await sample.http.get('/no-such-route'),
      await sample.http.post('/oauth/revoke').send({ token: 'unknown-1' }),
      await sample.http.post('/oauth/revoke').send({ token: 'unknown-2' }),
      await sample.http
        .post('/auth/login')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ username: 'a'.repeat(20_000) })),
    ];
    expect(responses.map((res) => res.status)).toEqual([400, 400, 401, 403, 404, 200, 429, 413]);
    for (const res of responses) expectSecurityHeaders(res);
  });
});
