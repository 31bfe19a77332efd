import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getDataSourceToken } from '@nestjs/typeorm';
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { databaseOptions } from '../../sample/config.js';
import { decodePart, forge } from '../support/forge.js';
import { registerAndLogin, startSample, TEST_SECRET, type LoggedIn, type RunningSample } from '../support/sample-app.js';

/**
 * Tokens an attacker would send, each differing from a valid one in one way
 * and (where a signature matters) correctly signed with the real secret, so
 * the claim checks are what is tested, not only the signature. Every one must
 * end in the same plain 401, with nothing written and nothing leaked.
 */
const INVALID = { statusCode: 401, message: 'Invalid access token', error: 'Unauthorized' };
const MISSING = { statusCode: 401, message: 'Missing access token', error: 'Unauthorized' };
const b64 = (text: string) => Buffer.from(text).toString('base64url');
const signRaw = (headerJson: string, payloadJson: string, secret: string | Buffer = TEST_SECRET) => {
  const input = `${b64(headerJson)}.${b64(payloadJson)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};

describe('hostile access tokens', () => {
  let sample: RunningSample;
  let user: LoggedIn;
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  let source: DataSource;

  const good = (edit: (h: Record<string, unknown>, c: Record<string, unknown>) => void = () => undefined) => {
    const h = { ...header };
    const c = { ...claims };
    edit(h, c);
    return forge(h, c, TEST_SECRET);
  };
  const rowCount = async () => {
    const [log] = await source.query('SELECT COUNT(*) AS n FROM jwt_token_log');
    const [sessions] = await source.query('SELECT COUNT(*) AS n FROM jwt_session');
    return `${log.n}/${sessions.n}`;
  };

  beforeAll(async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'jwt-hostile-')), 'db.sqlite');
    sample = await startSample(databaseOptions(`sqlite:${file}`));
    source = sample.app.get<DataSource>(getDataSourceToken());
    user = await registerAndLogin(sample.http, 'hostile.target');
    header = decodePart(user.accessToken, 0);
    claims = decodePart(user.accessToken, 1);
  });
  afterAll(async () => {
    await sample?.close();
  });

  it('the harness itself: the real claims re-signed with the real secret pass', async () => {
    await sample.http.get('/me').set('Authorization', `Bearer ${good()}`).expect(200);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const cases: Array<[string, () => string]> = [
    ['alg none', () => forge({ ...header, alg: 'none' }, claims, null)],
    ['alg None', () => forge({ ...header, alg: 'None' }, claims, null)],
    ['alg NONE', () => forge({ ...header, alg: 'NONE' }, claims, null)],
    ['alg nOnE with a signature part', () => `${forge({ ...header, alg: 'nOnE' }, claims, null)}${user.accessToken.split('.')[2]}`],
    ['alg none, no third segment', () => forge({ ...header, alg: 'none' }, claims, null).slice(0, -1)],
    ['signature stripped', () => user.accessToken.split('.').slice(0, 2).join('.') + '.'],
    ['signature truncated', () => user.accessToken.slice(0, -5)],
    ['signature in standard base64 with padding', () => {
      const [h, p, s] = user.accessToken.split('.');
      return `${h}.${p}.${Buffer.from(s, 'base64url').toString('base64')}`;
    }],
    ['payload edited, signature kept', () => {
      const [h, , s] = user.accessToken.split('.');
      return `${h}.${b64(JSON.stringify({ ...claims, sub: 'someone-else' }))}.${s}`;
    }],
    ['header edited, signature kept', () => {
      const [, p, s] = user.accessToken.split('.');
      return `${b64(JSON.stringify({ ...header, kid: 'x' }))}.${p}.${s}`;
    }],
    ['signed with another secret', () => forge(header, claims, 'another-secret-that-is-also-32-bytes-long')],
    ['alg HS384 header', () => good((h) => (h.alg = 'HS384'))],
    ['alg HS512 header', () => good((h) => (h.alg = 'HS512'))],
    ['alg RS256 header over an HMAC signature', () => good((h) => (h.alg = 'RS256'))],
    ['jwk header', () => good((h) => (h.jwk = { kty: 'oct', k: b64(TEST_SECRET) }))],
    ['jku header', () => good((h) => (h.jku = 'http://127.0.0.1:1/jwks.json'))],
    ['x5u header', () => good((h) => (h.x5u = 'http://127.0.0.1:1/cert.pem'))],
    ['x5c header', () => good((h) => (h.x5c = ['MIIB']))],
    ['kid path traversal', () => good((h) => (h.kid = '../../../../dev/null'))],
    ['kid SQL injection', () => good((h) => (h.kid = "' OR 1=1 --"))],
    ['kid shell injection', () => good((h) => (h.kid = '$(rm -rf /)'))],
    ['crit with exp', () => good((h) => (h.crit = ['exp']))],
    ['crit with an unknown extension', () => good((h) => (h.crit = ['x-unknown']))],
    ['typ missing', () => good((h) => delete h.typ)],
    ['typ JWT', () => good((h) => (h.typ = 'JWT'))],
    ['typ rt+jwt', () => good((h) => (h.typ = 'rt+jwt'))],
    ['exp missing', () => good((_, c) => delete c.exp)],
    ['exp as a string', () => good((_, c) => (c.exp = String(c.exp)))],
    ['exp 1e309 (Infinity)', () => signRaw(JSON.stringify(header), JSON.stringify(claims).replace(/"exp":\d+/, '"exp":1e309'))],
    ['exp negative', () => good((_, c) => (c.exp = -1))],
    ['exp fractional', () => good((_, c) => (c.exp = (c.exp as number) + 0.5))],
    ['exp in the past', () => good((_, c) => {
      c.iat = now() - 2000;
      c.exp = now() - 1000;
    })],
    ['exp ten years ahead', () => good((_, c) => (c.exp = now() + 10 * 365 * 86400))],
    ['exp before iat', () => good((_, c) => (c.exp = (c.iat as number) - 1))],
    ['nbf in the future', () => good((_, c) => (c.nbf = now() + 3600))],
    ['iat in the future', () => good((_, c) => {
      c.iat = now() + 3600;
      c.exp = now() + 3600 + 60;
    })],
    ['iat missing', () => good((_, c) => delete c.iat)],
    ['jti missing', () => good((_, c) => delete c.jti)],
    ['sub missing', () => good((_, c) => delete c.sub)],
    ['sid missing', () => good((_, c) => delete c.sid)],
    ['ver missing', () => good((_, c) => delete c.ver)],
    ['ver as a string', () => good((_, c) => (c.ver = '0'))],
    ['ver negative', () => good((_, c) => (c.ver = -1))],
    ['sub a number', () => good((_, c) => (c.sub = 12345))],
    ['sub empty', () => good((_, c) => (c.sub = ''))],
    ['sub 300 characters', () => good((_, c) => (c.sub = 'a'.repeat(300)))],
    ['sub with NUL', () => good((_, c) => (c.sub = `${c.sub}\u0000`))],
    ['sub with a lone surrogate', () => good((_, c) => (c.sub = `${c.sub}\ud800`))],
    ['jti unknown to the log (another subject)', () => good((_, c) => (c.sub = 'not-a-user'))],
    ['wrong iss', () => good((_, c) => (c.iss = 'https://evil.example'))],
    ['iss missing', () => good((_, c) => delete c.iss)],
    ['payload a JSON array', () => signRaw(JSON.stringify(header), JSON.stringify([claims]))],
    ['payload a JSON string', () => signRaw(JSON.stringify(header), JSON.stringify('hello'))],
    ['payload a number', () => signRaw(JSON.stringify(header), '42')],
    ['payload null', () => signRaw(JSON.stringify(header), 'null')],
    ['payload not JSON', () => signRaw(JSON.stringify(header), '{"sub":')],
    ['duplicate keys, the last one another subject', () =>
      signRaw(JSON.stringify(header), JSON.stringify(claims).replace(/^\{/, '{"sub":"x",').replace(/\}$/, ',"sub":"someone-else"}'))],
    ['__proto__ key in the payload', () => signRaw(JSON.stringify(header), JSON.stringify(claims).replace(/\}$/, ',"__proto__":{"sub":"admin","ver":999}}').replace(/"sub":"[^"]*",/, ''))],
    ['header a JSON array', () => signRaw('[1]', JSON.stringify(claims))],
    ['two segments', () => user.accessToken.split('.').slice(0, 2).join('.')],
    ['four segments', () => `${user.accessToken}.${user.accessToken.split('.')[2]}`],
    ['empty segments', () => '..'],
    ['non-base64url characters', () => user.accessToken.replace(/\./, '.*')],
    ['whitespace inside', () => user.accessToken.replace('.', ' .')],
    ['12 kB token (over maxTokenLength, under the header limit)', () => `${user.accessToken}${'A'.repeat(12_000)}`],
  ];

  for (const [name, token] of cases) {
    it(`401 for ${name}`, async () => {
      const before = await rowCount();
      const res = await sample.http.get('/me').set('Authorization', `Bearer ${token()}`);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      expect([INVALID, MISSING]).toContainEqual(res.body);
      expect(await rowCount()).toBe(before);
    });
  }

  it.each([
    ['no Authorization header', {}],
    ['empty Bearer', { Authorization: 'Bearer ' }],
    ['Basic scheme', { Authorization: `Basic ${b64('a:b')}` }],
    ['Bearer twice', { Authorization: `Bearer a Bearer b` }],
    ['token in a cookie (not configured)', { Cookie: 'access_token=abc' }],
  ])('401 Missing for %s', async (_name, headers) => {
    const res = await sample.http.get('/me').set(headers as Record<string, string>);
    expect(res.status).toBe(401);
    expect(res.body).toEqual(MISSING);
  });

  it('a 20 kB header is refused by Node itself with 431, never a 5xx', async () => {
    const res = await sample.http.get('/me').set('Authorization', `Bearer ${'A'.repeat(20_000)}`);
    expect(res.status).toBe(431);
  });

  it('a refresh token at a guarded route is 401', async () => {
    const res = await sample.http.get('/me').set('Authorization', `Bearer ${user.refreshToken}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual(INVALID);
  });

  it('after all that, the real token still works', async () => {
    await sample.http.get('/me').set(user.auth).expect(200);
  });
});
