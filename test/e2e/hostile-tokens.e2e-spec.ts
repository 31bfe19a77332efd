import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getDataSourceToken } from '@nestjs/typeorm';
import { createHmac, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { databaseOptions } from '../../sample/config.js';
import { b64, decodePart, forge } from '../support/forge.js';
import { CHALLENGE, INVALID, MISSING } from '../support/http.js';
import { keyPair, TEST_SECRET } from '../support/keys.js';
import { registerAndLogin, startSample, type LoggedIn, type RunningSample } from '../support/sample-app.js';

const nowSeconds = () => Math.floor(Date.now() / 1000);
const TEN_YEARS = 10 * 365 * 24 * 3600;

/** A real HMAC with another hash than forge()'s SHA-256. */
function hmacSigned(hash: 'sha384' | 'sha512', header: unknown, payload: unknown, secret: string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

type Claims = Record<string, unknown>;

/** The real token, taken apart: every hostile case is built from it. */
interface Base {
  token: string;
  parts: string[];
  header: Claims;
  claims: Claims;
  /** Re-signed with the app's real key: header and claims as given (a string payload is JSON text when `raw`). */
  sign(header: unknown, claims: unknown, raw?: boolean): string;
  /** Re-signed with the real key: the real header, the real claims with `patch` applied (undefined deletes). */
  withClaims(patch: Claims): string;
  /** Re-signed with the real key: the real claims, the real header with `patch` applied (undefined deletes). */
  withHeader(patch: Claims): string;
  /** The real claims as JSON text with `extra` spliced in before the closing brace, re-signed. */
  rawClaims(extra: string, drop?: string[]): string;
}

function patched(source: Claims, patch: Claims): Claims {
  const out: Claims = { ...source };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out;
}

/** How the app under test signs: the battery runs once per signer. */
interface Signer {
  name: string;
  /** SampleConfig overrides that make the sample sign this way. */
  sample: { jwtPrivateKey?: string };
  /** The signature segment of `input` by the app's real key. */
  signature(input: string): string;
  /** Hostile cases that only make sense for this key. */
  extraCases: Array<[string, Build]>;
}

/** A token signed by `signer`, built by hand like forge(). */
function signedBy(signer: Signer, header: unknown, payload: unknown, raw = false): string {
  const input = `${b64(header)}.${raw ? Buffer.from(payload as string).toString('base64url') : b64(payload)}`;
  return `${input}.${signer.signature(input)}`;
}

function makeBase(token: string, signer: Signer): Base {
  const header = decodePart(token, 0);
  const claims = decodePart(token, 1);
  const sign = (h: unknown, c: unknown, raw = false) => signedBy(signer, h, c, raw);
  return {
    token,
    parts: token.split('.'),
    header,
    claims,
    sign,
    withClaims: (patch) => sign(header, patched(claims, patch)),
    withHeader: (patch) => sign(patched(header, patch), claims),
    rawClaims: (extra, drop = []) => {
      const kept = patched(claims, Object.fromEntries(drop.map((key) => [key, undefined])));
      const text = JSON.stringify(kept).replace(/}$/, `${Object.keys(kept).length ? ',' : ''}${extra}}`);
      return sign(header, text, true);
    },
  };
}

type Build = (base: Base) => string;

const num = (value: unknown) => value as number;

/** Flips the lowest bit of the last character: with 2 unused bits there, the decoded bytes stay the same. */
function nonCanonicalLastChar(signature: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(signature.at(-1)!);
  return signature.slice(0, -1) + alphabet[last ^ 1];
}

const noneSpellings = ['none', 'None', 'NONE', 'nOnE'];

const cases: Array<[string, Build]> = [
  // --- alg none, every spelling, signed or not
  ...noneSpellings.flatMap((alg): Array<[string, Build]> => [
    [`alg "${alg}" without a signature part (trailing dot)`, (b) => forge({ ...b.header, alg }, b.claims, null)],
    [
      `alg "${alg}" without a signature part (two segments)`,
      (b) => forge({ ...b.header, alg }, b.claims, null).slice(0, -1),
    ],
    [
      `alg "${alg}" with an HMAC signature by the real secret`,
      (b) => forge({ ...b.header, alg }, b.claims, TEST_SECRET),
    ],
    [`alg "${alg}" with the original signature`, (b) => `${b64({ ...b.header, alg })}.${b.parts[1]}.${b.parts[2]}`],
  ]),
  ['alg missing from the header', (b) => b.withHeader({ alg: undefined })],
  ['alg empty string', (b) => b.withHeader({ alg: '' })],
  ['alg "hs256" in lower case', (b) => b.withHeader({ alg: 'hs256' })],
  ['alg as an array ["HS256"]', (b) => b.withHeader({ alg: ['HS256'] })],

  // --- the signature itself
  ['signature stripped (trailing dot kept)', (b) => `${b.parts[0]}.${b.parts[1]}.`],
  ['signature truncated by one character', (b) => `${b.parts[0]}.${b.parts[1]}.${b.parts[2].slice(0, -1)}`],
  ['signature truncated to half', (b) => `${b.parts[0]}.${b.parts[1]}.${b.parts[2].slice(0, 21)}`],
  [
    'signature re-encoded as standard base64 with padding',
    (b) => `${b.parts[0]}.${b.parts[1]}.${Buffer.from(b.parts[2], 'base64url').toString('base64')}`,
  ],
  ['signature with "=" padding appended', (b) => `${b.parts[0]}.${b.parts[1]}.${b.parts[2]}=`],
  [
    'signature with a non-canonical last character (same bytes)',
    (b) => `${b.parts[0]}.${b.parts[1]}.${nonCanonicalLastChar(b.parts[2])}`,
  ],
  ['signature doubled', (b) => `${b.parts[0]}.${b.parts[1]}.${b.parts[2]}${b.parts[2]}`],
  [
    'signature of another token (same header, other payload)',
    (b) => `${b.parts[0]}.${b.parts[1]}.${b.withClaims({ sub: 'someone-else' }).split('.')[2]}`,
  ],
  [
    'payload edited (sub changed), original signature',
    (b) => `${b.parts[0]}.${b64({ ...b.claims, sub: 'someone-else' })}.${b.parts[2]}`,
  ],
  [
    'payload edited (ver changed), original signature',
    (b) => `${b.parts[0]}.${b64({ ...b.claims, ver: num(b.claims.ver) + 1 })}.${b.parts[2]}`,
  ],
  [
    'payload re-encoded with standard base64 padding, original signature',
    (b) => `${b.parts[0]}.${Buffer.from(b.parts[1], 'base64url').toString('base64')}.${b.parts[2]}`,
  ],
  [
    'header edited (extra member), original signature',
    (b) => `${b64({ ...b.header, x: 1 })}.${b.parts[1]}.${b.parts[2]}`,
  ],
  [
    'header edited (keys reordered), original signature',
    (b) => `${b64({ typ: b.header.typ, alg: b.header.alg })}.${b.parts[1]}.${b.parts[2]}`,
  ],
  ['signed with a different secret', (b) => forge(b.header, b.claims, 'another-secret-that-is-at-least-32-bytes-long')],
  ['HMAC-signed with TEST_SECRET plus one character', (b) => forge(b.header, b.claims, `${TEST_SECRET}x`)],
  ['signed with an empty secret', (b) => forge(b.header, b.claims, '')],

  // --- algorithm switching
  [
    'alg HS384 with a genuine HS384 signature by the real secret',
    (b) => hmacSigned('sha384', { ...b.header, alg: 'HS384' }, b.claims, TEST_SECRET),
  ],
  [
    'alg HS512 with a genuine HS512 signature by the real secret',
    (b) => hmacSigned('sha512', { ...b.header, alg: 'HS512' }, b.claims, TEST_SECRET),
  ],

  // --- key-carrying headers, validly signed
  ['jwk header (TEST_SECRET as an oct key)', (b) => b.withHeader({ jwk: { kty: 'oct', k: b64(TEST_SECRET) } })],
  ['jku header', (b) => b.withHeader({ jku: 'https://attacker.example/jwks.json' })],
  ['x5u header', (b) => b.withHeader({ x5u: 'https://attacker.example/cert.pem' })],
  ['x5c header', (b) => b.withHeader({ x5c: ['MIIBszCCAVmgAwIBAgIUQ2Fs'] })],
  ['jwk header set to null', (b) => b.withHeader({ jwk: null })],

  // --- kid, where none is configured
  ['kid with path traversal', (b) => b.withHeader({ kid: '../../dev/null' })],
  ['kid with SQL injection', (b) => b.withHeader({ kid: "' OR 1=1 --" })],
  ['kid with shell injection', (b) => b.withHeader({ kid: '$(rm -rf /)' })],
  ['kid empty string', (b) => b.withHeader({ kid: '' })],
  ['kid null', (b) => b.withHeader({ kid: null })],

  // --- crit
  ['crit ["exp"]', (b) => b.withHeader({ crit: ['exp'] })],
  ['crit with an unknown extension', (b) => b.withHeader({ crit: ['urn:example:ext'], 'urn:example:ext': true })],
  ['crit empty array', (b) => b.withHeader({ crit: [] })],
  ['crit null', (b) => b.withHeader({ crit: null })],

  // --- typ
  ['typ missing', (b) => b.withHeader({ typ: undefined })],
  ['typ "JWT"', (b) => b.withHeader({ typ: 'JWT' })],
  ['typ "rt+jwt"', (b) => b.withHeader({ typ: 'rt+jwt' })],
  ['typ "application/jwt"', (b) => b.withHeader({ typ: 'application/jwt' })],
  ['typ "at+jwt " with a trailing space', (b) => b.withHeader({ typ: 'at+jwt ' })],
  ['typ empty string', (b) => b.withHeader({ typ: '' })],
  ['typ as an array', (b) => b.withHeader({ typ: ['at+jwt'] })],
  [
    'duplicate typ header members (the last, "JWT", wins)',
    (b) => b.sign(JSON.stringify(b.header).replace(/}$/, ',"typ":"JWT"}'), b.claims),
  ],

  // --- exp
  ['exp missing', (b) => b.withClaims({ exp: undefined })],
  ['exp as a numeric string', (b) => b.withClaims({ exp: String(b.claims.exp) })],
  ['exp 1e309 (Infinity after JSON.parse)', (b) => b.rawClaims('"exp":1e309', ['exp'])],
  ['exp negative', (b) => b.withClaims({ exp: -1 })],
  ['exp zero', (b) => b.withClaims({ exp: 0 })],
  ['exp "NaN"', (b) => b.withClaims({ exp: 'NaN' })],
  ['exp "Infinity"', (b) => b.withClaims({ exp: 'Infinity' })],
  ['exp true', (b) => b.withClaims({ exp: true })],
  ['exp fractional', (b) => b.withClaims({ exp: num(b.claims.exp) + 0.5 })],
  ['exp beyond MAX_SAFE_INTEGER', (b) => b.rawClaims('"exp":9007199254740993', ['exp'])],
  ['exp 10 years after iat', (b) => b.withClaims({ exp: num(b.claims.iat) + TEN_YEARS })],
  ['exp one second longer than accessTokenTtl', (b) => b.withClaims({ exp: num(b.claims.exp) + 1 })],
  ['exp equal to iat', (b) => b.withClaims({ exp: b.claims.iat })],
  [
    'expired an hour ago (iat and exp moved back)',
    (b) => b.withClaims({ iat: num(b.claims.iat) - 4500, exp: num(b.claims.exp) - 4500 }),
  ],

  // --- nbf and iat
  ['nbf an hour in the future', (b) => b.withClaims({ nbf: nowSeconds() + 3600 })],
  ['nbf as a string', (b) => b.withClaims({ nbf: String(b.claims.iat) })],
  ['iat in the future (iat alone moved)', (b) => b.withClaims({ iat: nowSeconds() + 600 })],
  [
    'iat and exp both 10 minutes in the future',
    (b) => b.withClaims({ iat: num(b.claims.iat) + 600, exp: num(b.claims.exp) + 600 }),
  ],
  ['iat missing', (b) => b.withClaims({ iat: undefined })],
  ['iat as a string', (b) => b.withClaims({ iat: String(b.claims.iat) })],
  ['iat zero', (b) => b.withClaims({ iat: 0 })],
  ['iat fractional', (b) => b.withClaims({ iat: num(b.claims.iat) + 0.5 })],

  // --- missing identity claims
  ['jti missing', (b) => b.withClaims({ jti: undefined })],
  ['sub missing', (b) => b.withClaims({ sub: undefined })],
  ['sid missing', (b) => b.withClaims({ sid: undefined })],
  ['ver missing', (b) => b.withClaims({ ver: undefined })],

  // --- sub
  ['sub as a number', (b) => b.withClaims({ sub: 12345 })],
  ['sub empty string', (b) => b.withClaims({ sub: '' })],
  ['sub of 300 characters', (b) => b.withClaims({ sub: 'a'.repeat(300) })],
  ['sub containing \\u0000', (b) => b.withClaims({ sub: `${String(b.claims.sub)}\u0000` })],
  ['sub containing a lone surrogate \\ud800', (b) => b.withClaims({ sub: `${String(b.claims.sub)}\ud800` })],
  ['sub null', (b) => b.withClaims({ sub: null })],
  ['sub as an array of the real sub', (b) => b.withClaims({ sub: [b.claims.sub] })],
  ['sub as an object', (b) => b.withClaims({ sub: { id: b.claims.sub } })],
  ['duplicate sub keys (the last, an unknown user, wins)', (b) => b.rawClaims('"sub":"no-such-user"')],

  // --- jti, sid
  ['jti as a number', (b) => b.withClaims({ jti: 1 })],
  ['jti empty string', (b) => b.withClaims({ jti: '' })],
  ['jti of 65 characters', (b) => b.withClaims({ jti: 'j'.repeat(65) })],
  ['sid as a number', (b) => b.withClaims({ sid: 1 })],
  ['sid empty string', (b) => b.withClaims({ sid: '' })],
  ['sid of 65 characters', (b) => b.withClaims({ sid: 's'.repeat(65) })],

  // --- ver
  ['ver as a string', (b) => b.withClaims({ ver: String(b.claims.ver) })],
  ['ver negative', (b) => b.withClaims({ ver: -1 })],
  ['ver fractional', (b) => b.withClaims({ ver: num(b.claims.ver) + 0.5 })],
  ['ver null', (b) => b.withClaims({ ver: null })],
  ['duplicate exp keys (the last, 10 years out, wins)', (b) => b.rawClaims(`"exp":${num(b.claims.iat) + TEN_YEARS}`)],

  // --- payload that is not a claims object
  ['payload a JSON array', (b) => b.sign(b.header, [b.claims])],
  ['payload a JSON string', (b) => b.sign(b.header, JSON.stringify('hello'))],
  ['payload a JSON number', (b) => b.sign(b.header, '42')],
  ['payload JSON null', (b) => b.sign(b.header, 'null')],
  ['payload JSON true', (b) => b.sign(b.header, 'true')],
  ['payload an empty object', (b) => b.sign(b.header, {})],
  ['payload not JSON at all', (b) => b.sign(b.header, 'not json', true)],
  ['payload JSON with trailing garbage', (b) => b.sign(b.header, `${JSON.stringify(b.claims)}x`, true)],
  [
    'payload JSON null with typ "JWT" (jws then parses it itself)',
    (b) => b.sign({ ...b.header, typ: 'JWT' }, 'null', true),
  ],
  [
    '__proto__ holding sub instead of a real sub',
    (b) => b.rawClaims(`"__proto__":{"sub":${JSON.stringify(b.claims.sub)}}`, ['sub']),
  ],
  [
    'constructor.prototype holding ver instead of a real ver',
    (b) => b.rawClaims('"constructor":{"prototype":{"ver":0}}', ['ver']),
  ],

  // --- iss (the sample sets one)
  ['iss of another issuer', (b) => b.withClaims({ iss: 'evil-issuer' })],
  ['iss missing', (b) => b.withClaims({ iss: undefined })],
  ['iss as an array holding the real issuer', (b) => b.withClaims({ iss: [b.claims.iss] })],

  // --- the compact serialization itself
  ['two segments', (b) => `${b.parts[0]}.${b.parts[1]}`],
  ['four segments', (b) => `${b.token}.${b.parts[2]}`],
  ['four segments, the last empty', (b) => `${b.token}.`],
  ['five segments (JWE-shaped)', (b) => `${b.token}.${b.parts[1]}.${b.parts[2]}`],
  ['a leading dot', (b) => `.${b.token}`],
  ['empty header segment', (b) => `.${b.parts[1]}.${b.parts[2]}`],
  ['empty payload segment', (b) => `${b.parts[0]}..${b.parts[2]}`],
  ['all segments empty', () => '..'],
  ['a lone dot', () => '.'],
  ['empty string', () => ''],
  ['no dots at all', (b) => b.token.replaceAll('.', '')],
  ['"!" in the payload segment', (b) => `${b.parts[0]}.!${b.parts[1].slice(1)}.${b.parts[2]}`],
  ['"*" in the signature segment', (b) => `${b.parts[0]}.${b.parts[1]}.*${b.parts[2].slice(1)}`],
  ['"+" and "/" in the header segment', (b) => `${b.parts[0]}+/.${b.parts[1]}.${b.parts[2]}`],
  ['percent-encoded dots', (b) => b.token.replaceAll('.', '%2E')],
  ['header segment that is not JSON', (b) => `${b64('not json')}.${b.parts[1]}.${b.parts[2]}`],
  ['header JSON null, validly signed', (b) => b.sign('null', b.claims)],
  ['header a JSON array, validly signed', (b) => b.sign([b.header], b.claims)],
];

/** Authorization values that carry no usable Bearer token. */
const authorizations: Array<[string, (b: Base) => string]> = [
  ['Basic scheme with the real token', (b) => `Basic ${b.token}`],
  ['no scheme, the bare real token', (b) => b.token],
  ['two tokens after Bearer', (b) => `Bearer ${b.token} ${b.token}`],
  ['Bearer with nothing after it', () => 'Bearer'],
  ['BearerX scheme', (b) => `BearerX ${b.token}`],
  [
    'a token one character longer than maxTokenLength (8192)',
    (b) => `Bearer ${b.token}${'A'.repeat(8193 - b.token.length)}`,
  ],
];

/** Another algorithm in the header over the real key's signature: every one the signer does not use. */
const algorithmSwitches = (own: string): Array<[string, Build]> =>
  ['HS256', 'HS384', 'HS512', 'RS256', 'ES256', 'PS256', 'EdDSA', 'Ed25519']
    .filter((alg) => alg !== own)
    .map((alg) => [`alg ${alg} in the header, the real key's signature`, (b) => b.withHeader({ alg })]);

const ed = keyPair('EdDSA');
const edPublicPem = ed.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const edRawPublic = Buffer.from(ed.publicKey.export({ format: 'jwk' }).x!, 'base64url');
const edOther = keyPair('EdDSA');
const ed25519 = (key: KeyObject) => (input: string) => cryptoSign(null, Buffer.from(input), key).toString('base64url');

const signers: Signer[] = [
  {
    name: 'HS256',
    sample: {},
    signature: (input) => createHmac('sha256', TEST_SECRET).update(input).digest('base64url'),
    extraCases: algorithmSwitches('HS256'),
  },
  {
    name: 'EdDSA',
    sample: { jwtPrivateKey: ed.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string },
    signature: ed25519(ed.privateKey),
    extraCases: [
      ...algorithmSwitches('EdDSA'),
      // Algorithm confusion: the public key is public, so an HMAC "secret" made of it must never verify.
      [
        'alg HS256 signed with the PEM public key as the HMAC secret',
        (b) => forge({ ...b.header, alg: 'HS256' }, b.claims, edPublicPem),
      ],
      [
        'alg HS256 without kid, signed with the PEM public key',
        (b) => forge({ alg: 'HS256', typ: 'at+jwt' }, b.claims, edPublicPem),
      ],
      [
        'alg HS256 signed with the raw 32-byte public key as the HMAC secret',
        (b) => forge({ ...b.header, alg: 'HS256' }, b.claims, edRawPublic),
      ],
      [
        'an Ed25519 signature by another key pair, the real kid',
        (b) => `${b.parts[0]}.${b.parts[1]}.${ed25519(edOther.privateKey)(`${b.parts[0]}.${b.parts[1]}`)}`,
      ],
      ['an all-zero 64-byte signature', (b) => `${b.parts[0]}.${b.parts[1]}.${Buffer.alloc(64).toString('base64url')}`],
      [
        'the signature with its S half replaced by the group order added (malleability)',
        (b) => {
          // RFC 8032 requires S < L; a verifier that skips the check accepts S + L for the same message.
          const L = 2n ** 252n + 27742317777372353535851937790883648493n;
          const sig = Buffer.from(b.parts[2], 'base64url');
          const s = BigInt(`0x${Buffer.from(sig.subarray(32)).reverse().toString('hex')}`) + L;
          const bytes = Buffer.from(s.toString(16).padStart(64, '0'), 'hex').reverse();
          return `${b.parts[0]}.${b.parts[1]}.${Buffer.concat([sig.subarray(0, 32), bytes]).toString('base64url')}`;
        },
      ],
    ],
  },
];

describe.each(signers)('hostile access tokens against the sample app [sqlite, $name]', (signer) => {
  let sample: RunningSample;
  let user: LoggedIn;
  let base: Base;
  let dataSource: DataSource;
  let before: Record<string, unknown>;

  /** Every row of every table of the app, the module's and the sample's (last_seen_at aside: the guard may note a valid request). */
  async function snapshot(): Promise<Record<string, unknown>> {
    const rows = async (sql: string) => (await dataSource.query(sql)) as Array<Record<string, unknown>>;
    const tables: Record<string, unknown> = {};
    for (const { tableName, primaryColumns } of dataSource.entityMetadatas) {
      const order = primaryColumns.map((column) => column.databaseName).join(', ');
      tables[tableName] = (await rows(`SELECT * FROM ${tableName} ORDER BY ${order}`)).map(
        ({ last_seen_at: _seen, ...rest }) => rest,
      );
    }
    return {
      tokenLogCount: (await rows('SELECT COUNT(*) AS n FROM jwt_token_log'))[0].n,
      sessionCount: (await rows('SELECT COUNT(*) AS n FROM jwt_session'))[0].n,
      tables,
    };
  }

  async function expectRejected(authorization: string): Promise<void> {
    const res = await sample.http.get('/me').set('Authorization', authorization);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(CHALLENGE);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    // Exactly one of the two fixed bodies: no reason, no stack, no jsonwebtoken wording.
    expect([INVALID, MISSING]).toContainEqual(res.body);
  }

  beforeAll(async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'jwt-revocation-hostile-')), 'test.sqlite');
    sample = await startSample(databaseOptions(`sqlite:${file}`), signer.sample);
    user = await registerAndLogin(sample.http, 'hostile.alice');
    // A second user, so "someone else's" subject exists for the cases that name one.
    await registerAndLogin(sample.http, 'hostile.bob');
    base = makeBase(user.accessToken, signer);
    dataSource = sample.app.get<DataSource>(getDataSourceToken());
    before = await snapshot();
  });
  afterAll(async () => {
    await sample?.close();
  });

  describe('sanity: the harness forges tokens the app accepts', () => {
    it('the real token gives 200, and the DB holds its rows', async () => {
      const res = await sample.http.get('/me').set(user.auth).expect(200);
      expect(res.body).toMatchObject({ username: 'hostile.alice', jti: base.claims.jti, sessionId: base.claims.sid });
      expect(Number(before.tokenLogCount)).toBeGreaterThan(0);
      expect(Number(before.sessionCount)).toBeGreaterThan(0);
    });

    it('re-signing the unchanged claims with the real key reproduces the token and gives 200', async () => {
      const resigned = base.sign(base.header, base.claims);
      expect(resigned).toBe(base.token);
      await sample.http.get('/me').set('Authorization', `Bearer ${resigned}`).expect(200);
    });

    it.each<[string, Build]>([
      ['header members reordered', (b) => b.sign(Object.fromEntries(Object.entries(b.header).reverse()), b.claims)],
      ['claims reordered', (b) => b.sign(b.header, Object.fromEntries(Object.entries(b.claims).reverse()))],
      ['typ "AT+JWT" (media types are case-insensitive)', (b) => b.withHeader({ typ: 'AT+JWT' })],
      ['typ "application/at+jwt"', (b) => b.withHeader({ typ: 'application/at+jwt' })],
    ])('a re-signed token with %s (bytes differ, meaning does not) gives 200', async (_name, build) => {
      const token = build(base);
      expect(token).not.toBe(base.token);
      const res = await sample.http.get('/me').set('Authorization', `Bearer ${token}`).expect(200);
      expect(res.body.jti).toBe(base.claims.jti);
    });

    it('the non-canonical signature really decodes to the same bytes (so only the string compare refuses it)', () => {
      const altered = nonCanonicalLastChar(base.parts[2]);
      expect(altered).not.toBe(base.parts[2]);
      expect(Buffer.from(altered, 'base64url').equals(Buffer.from(base.parts[2], 'base64url'))).toBe(true);
    });
  });

  describe('each hostile token gets 401 with the fixed challenge and body', () => {
    it.each([...cases, ...signer.extraCases])('%s', async (_name, build) => {
      const token = build(base);
      expect(token).not.toBe(base.token);
      await expectRejected(`Bearer ${token}`);
    });
  });

  describe('Authorization headers without a usable Bearer token get 401', () => {
    it.each(authorizations)('%s', async (_name, build) => {
      await expectRejected(build(base));
    });

    it('a token in the query string is not read', async () => {
      const res = await sample.http.get(`/me?access_token=${base.token}`);
      expect(res.status).toBe(401);
      expect(res.body).toEqual(MISSING);
    });

    it('an oversized token counts as missing', async () => {
      const res = await sample.http
        .get('/me')
        .set('Authorization', `Bearer ${base.parts[0]}.${'A'.repeat(10_000)}.${base.parts[2]}`);
      expect(res.status).toBe(401);
      expect(res.body).toEqual(MISSING);
    });

    it('a 20 kB Authorization header is refused by the HTTP server (431) before the app, never 200 or 500', async () => {
      // Node's default header limit is 16 KiB: the request never reaches Nest.
      const res = await sample.http
        .get('/me')
        .set('Authorization', `Bearer ${base.parts[0]}.${'A'.repeat(20_000)}.${base.parts[2]}`);
      expect(res.status).toBe(431);
    });
  });

  describe('a valid token with an extra __proto__ member', () => {
    it('is accepted as the claims it names, and pollutes no prototype', async () => {
      const token = base.rawClaims('"__proto__":{"polluted":"yes","sub":"someone-else"}');
      const res = await sample.http.get('/me').set('Authorization', `Bearer ${token}`).expect(200);
      expect(res.body.username).toBe('hostile.alice');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    });
  });

  describe('afterwards', () => {
    it('the real token still gives 200', async () => {
      const res = await sample.http.get('/me').set(user.auth).expect(200);
      expect(res.body.jti).toBe(base.claims.jti);
    });

    it('no hostile request wrote to the database', async () => {
      const after = await snapshot();
      // Every table: token log, archive, session, subject state, revocation event, and the sample's users.
      expect(Object.keys(after.tables as object)).toEqual(
        expect.arrayContaining([
          'jwt_token_log',
          'jwt_token_archive',
          'jwt_session',
          'jwt_subject_state',
          'jwt_revocation_event',
          'sample_user',
        ]),
      );
      expect(after.tokenLogCount).toEqual(before.tokenLogCount);
      expect(after.sessionCount).toEqual(before.sessionCount);
      expect(after).toEqual(before);
    });
  });
});
