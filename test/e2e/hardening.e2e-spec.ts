import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { LoggerService } from '@nestjs/common';
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { tempSqliteDatabase } from '../support/databases.js';
import { b64, decodePart } from '../support/forge.js';
import { TEST_SECRET } from '../support/keys.js';
import { login, registerAndLogin, startSample, type LoggedIn, type RunningSample } from '../support/sample-app.js';
import { sleep } from '../support/time.js';

/** Fixed seed: a failure reproduces. FUZZ_RUNS raises the count for a longer hunt. */
const FUZZ = { seed: 20261123, numRuns: Number(process.env.FUZZ_RUNS ?? 150) };

describe('fuzzing the guard and the token endpoints (fast-check)', () => {
  let sample: RunningSample;
  let user: LoggedIn;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    sample = await startSample(tempSqliteDatabase());
    user = await registerAndLogin(sample.http, 'fuzz.target');
  });
  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    await sample?.close();
  });

  /** A valid token with a few characters changed, dropped or added: closest to what gets past a parser. */
  const mutatedToken = () =>
    fc
      .array(
        fc.tuple(
          fc.nat(),
          fc.constantFrom('flip', 'drop', 'insert'),
          fc.constantFrom(...'AZaz09-_.=+/ \u0000é'.split('')),
        ),
        { minLength: 1, maxLength: 4 },
      )
      .map((edits) => {
        let t = user.accessToken;
        for (const [at, op, ch] of edits) {
          const i = at % t.length;
          t =
            op === 'drop'
              ? t.slice(0, i) + t.slice(i + 1)
              : op === 'insert'
                ? t.slice(0, i) + ch + t.slice(i)
                : t.slice(0, i) + ch + t.slice(i + 1);
        }
        return t;
      })
      .filter((t) => t !== user.accessToken);

  const segments = () => user.accessToken.split('.');

  /** The issued header and claims under a signature that is not theirs: the real one with characters changed, or random bytes. */
  const forgedSignature = () =>
    fc
      .oneof(
        fc
          .array(fc.tuple(fc.nat(), fc.constantFrom(...'AZaz09-_'.split(''))), { minLength: 1, maxLength: 3 })
          .map((edits) => {
            let signature = segments()[2];
            for (const [at, ch] of edits) {
              const i = at % signature.length;
              signature = signature.slice(0, i) + ch + signature.slice(i + 1);
            }
            return signature;
          }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
      )
      .map((signature) => `${segments()[0]}.${segments()[1]}.${signature}`)
      .filter((t) => t !== user.accessToken);

  /** The issued header and signature over claims the app never signed: another sub, exp, ver or jti. */
  const forgedClaims = () =>
    fc
      .record(
        {
          sub: fc.constantFrom('someone-else', ''),
          exp: fc.integer({ min: 0, max: 2 ** 31 }),
          ver: fc.integer({ min: -1, max: 3 }),
          jti: fc.string({ minLength: 1, maxLength: 64 }),
        },
        { requiredKeys: [] },
      )
      .map((patch) => `${segments()[0]}.${b64({ ...decodePart(user.accessToken, 1), ...patch })}.${segments()[2]}`)
      .filter((t) => t !== user.accessToken);

  const headerValue = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.base64String({ maxLength: 300 }).map((s) => `Bearer ${s}`),
    fc
      .tuple(
        fc.base64String({ maxLength: 80 }),
        fc.base64String({ maxLength: 200 }),
        fc.base64String({ maxLength: 80 }),
      )
      .map(([a, b, c]) => `Bearer ${a}.${b}.${c}`),
    fc
      .json({ maxDepth: 2 })
      .map(
        (j) =>
          `Bearer ${Buffer.from('{"alg":"HS256","typ":"at+jwt"}').toString('base64url')}.${Buffer.from(j).toString('base64url')}.sig`,
      ),
    mutatedToken().map((t) => `Bearer ${t}`),
    forgedSignature().map((t) => `Bearer ${t}`),
    forgedClaims().map((t) => `Bearer ${t}`),
  );
  // Header values must be legal on the wire; the HTTP client refuses others before sending.
  const sendable = (v: string) => /^[\t\x20-\x7e]*$/.test(v);

  /**
   * Whether an Authorization value carries the token the app issued to fuzz.target, checked
   * without the library: the value as the server receives it (HTTP drops the spaces and tabs
   * around it), `Bearer`, spaces and three base64url segments (RFC 6750), an HS256 signature
   * by TEST_SECRET over exactly the first two (node:crypto), and the issued token's header
   * and claims. A mutation can only get a 200 by leaving all of that intact.
   */
  const carriesIssuedToken = (value: string): boolean => {
    const match = /^Bearer +([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+) *$/i.exec(
      value.replace(/^[\t ]+|[\t ]+$/g, ''),
    );
    if (!match) return false;
    const [, header, payload, signature] = match;
    if (signature !== createHmac('sha256', TEST_SECRET).update(`${header}.${payload}`).digest('base64url'))
      return false;
    const token = `${header}.${payload}.${signature}`;
    try {
      return (
        isDeepStrictEqual(decodePart(token, 0), decodePart(user.accessToken, 0)) &&
        isDeepStrictEqual(decodePart(token, 1), decodePart(user.accessToken, 1))
      );
    } catch {
      return false;
    }
  };

  it('GET /me with random Authorization headers: only 401, or 200 for the issued token itself, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(headerValue.filter(sendable), async (value) => {
        const res = await sample.http.get('/me').set('Authorization', value);
        expect([200, 401]).toContain(res.status);
        if (res.status === 401) expect(res.body).toMatchObject({ statusCode: 401 });
        if (res.status === 200) {
          // A 200 is only right for a token the test can verify itself as the one issued: a forged one got in otherwise.
          expect({ value, carriesIssuedToken: carriesIssuedToken(value) }).toEqual({ value, carriesIssuedToken: true });
          expect(res.body.jti).toBe(decodePart(user.accessToken, 1).jti);
        }
      }),
      FUZZ,
    );
  });

  it('POST /auth/refresh and /oauth/revoke with random JSON bodies: 200, 400 or 401, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }),
          fc.record({
            refreshToken: fc.oneof(fc.string(), fc.jsonValue()),
            token: fc.oneof(fc.string(), fc.jsonValue()),
          }),
        ),
        async (body) => {
          const refreshed = await sample.http
            .post('/auth/refresh')
            .set('Content-Type', 'application/json')
            .send(JSON.stringify(body));
          expect([400, 401]).toContain(refreshed.status);
          const revoked = await sample.http
            .post('/oauth/revoke')
            .set('Content-Type', 'application/json')
            .send(JSON.stringify(body));
          expect([200, 400]).toContain(revoked.status);
        },
      ),
      FUZZ,
    );
  });

  it('random raw bodies declared as JSON: 400 with a JSON body, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (raw) => {
        const res = await sample.http.post('/auth/login').set('Content-Type', 'application/json').send(raw);
        expect(res.status).toBeLessThan(500);
        expect(res.headers['content-type']).toMatch(/json/);
      }),
      FUZZ,
    );
  });

  it('left no unhandled rejection behind, and the real token still works', async () => {
    await sample.http.get('/me').set(user.auth).expect(200);
    expect(rejections).toEqual([]);
  });
});

describe('the sample app as an attacker meets it', () => {
  let sample: RunningSample;

  beforeAll(async () => {
    sample = await startSample(tempSqliteDatabase(), { authRateLimit: 5 });
  });
  afterAll(async () => {
    await sample?.close();
  });

  it('sends security headers and no X-Powered-By', async () => {
    const res = await sample.http.get('/me');
    expect(res.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    });
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('rate-limits login per client: 429 past the limit', async () => {
    const statuses = [];
    for (let i = 0; i < 7; i++)
      statuses.push(
        (await sample.http.post('/auth/login').send({ username: 'nobody', password: 'wrong password' })).status,
      );
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
  });

  it('refuses a body over 16 kB with 413', async () => {
    const res = await sample.http
      .post('/me')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ x: 'a'.repeat(20_000) }));
    expect(res.status).toBe(413);
  });
});

describe('no secret in any log line', () => {
  it('a whole session of use, reuse included, logs no token, password or secret', async () => {
    const lines: string[] = [];
    const capture: LoggerService = {
      log: (m: unknown, ...r: unknown[]) => void lines.push([m, ...r].map(String).join(' ')),
      error: (m: unknown, ...r: unknown[]) => void lines.push([m, ...r].map(String).join(' ')),
      warn: (m: unknown, ...r: unknown[]) => void lines.push([m, ...r].map(String).join(' ')),
      debug: (m: unknown, ...r: unknown[]) => void lines.push([m, ...r].map(String).join(' ')),
      verbose: (m: unknown, ...r: unknown[]) => void lines.push([m, ...r].map(String).join(' ')),
    };
    const { createApp } = await import('../../sample/app.js');
    const password = 'a very secret password';
    const app = await createApp(
      {
        port: 0,
        database: tempSqliteDatabase(),
        jwtSecret: TEST_SECRET,
        accessTokenTtl: 900,
        refreshTokenTtl: 86_400,
        refreshReuseGrace: 0,
        syncInterval: 5,
        maxStaleness: 30,
        failClosed: true,
        authRateLimit: 1000,
        propagation: 'auto',
        introspectionClient: null,
      },
      capture,
    );
    await app.listen(0, '127.0.0.1');
    const request = (await import('supertest')).default;
    const http = request(app.getHttpServer());
    try {
      const user = await registerAndLogin(http, 'logs.victim', password);
      const second = await login(http, 'logs.victim', password);
      const rotated = await http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
      await sleep(5);
      await http.post('/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401); // reuse: logged as a warning
      await http.get('/me').set('Authorization', `Bearer ${user.accessToken}x`).expect(401);
      await http
        .post('/auth/login')
        .send({ username: 'logs.victim', password: `${password}!` })
        .expect(401);
      await http.post('/oauth/revoke').send({ token: second.refreshToken }).expect(200);
      await http.post('/auth/logout').set('Authorization', `Bearer ${rotated.body.accessToken}`).expect(401);
      const secrets = [
        password,
        TEST_SECRET,
        user.accessToken,
        user.refreshToken,
        second.accessToken,
        second.refreshToken,
        rotated.body.accessToken,
        rotated.body.refreshToken,
      ];
      expect(lines.some((l) => l.includes('refresh token reuse'))).toBe(true);
      for (const line of lines) for (const secret of secrets) expect(line).not.toContain(secret);
      // And not even the signature half of a token.
      for (const line of lines) expect(line).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
    } finally {
      await app.close();
    }
  });
});
