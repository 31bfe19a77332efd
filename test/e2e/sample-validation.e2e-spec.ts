import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { tempSqliteDatabase } from '../support/databases.js';
import { registerAndLogin, startSample, type LoggedIn, type RunningSample } from '../support/sample-app.js';

/**
 * README, "The sample": every body is validated, and a bad one is a 400 whose
 * message names the field, never a 500 nor a request that goes through.
 */

interface Field {
  name: string;
  min: number;
  max: number;
}

interface Endpoint {
  path: string;
  /** A body that passes validation: each case breaks one field of it. */
  valid: Record<string, string>;
  fields: Field[];
  /** Values of the right type that a field still refuses, beyond the lengths. */
  refused?: Record<string, string[]>;
}

const ENDPOINTS: Endpoint[] = [
  {
    path: '/auth/register',
    valid: { username: 'valid.name', password: 'correct horse battery' },
    fields: [
      { name: 'username', min: 3, max: 64 },
      { name: 'password', min: 8, max: 256 },
    ],
    refused: { username: ['two words', 'nul\u0000byte', 'ünïcode', 'semi;colon', '<script>'] },
  },
  {
    path: '/auth/login',
    valid: { username: 'valid.name', password: 'any password' },
    fields: [
      { name: 'username', min: 1, max: 64 },
      { name: 'password', min: 1, max: 256 },
    ],
  },
  {
    path: '/auth/refresh',
    valid: { refreshToken: 'some-refresh-token' },
    fields: [{ name: 'refreshToken', min: 1, max: 8192 }],
  },
  {
    path: '/auth/change-password',
    valid: { currentPassword: 'current password', newPassword: 'new password 1' },
    fields: [
      { name: 'currentPassword', min: 1, max: 256 },
      { name: 'newPassword', min: 8, max: 256 },
    ],
  },
];

/** Values of the wrong type, and no value at all. */
const WRONG_TYPES: Array<[string, unknown]> = [
  ['missing', undefined],
  ['null', null],
  ['a number', 42],
  ['a boolean', true],
  ['an array', ['a long enough string']],
  ['an empty array', []],
  ['an object', { value: 'a long enough string' }],
];

interface Outcome {
  case: string;
  status: number;
  body: unknown;
}

const namesField = (field: string): Outcome['body'] => ({
  statusCode: 400,
  error: 'Bad Request',
  message: expect.stringMatching(new RegExp(`^${field} `)),
});

describe('sample request bodies', () => {
  let sample: RunningSample;
  let user: LoggedIn;

  beforeAll(async () => {
    sample = await startSample(tempSqliteDatabase());
    user = await registerAndLogin(sample.http, 'validation.user', 'current password');
  });
  afterAll(async () => {
    await sample?.close();
  });

  const post = (path: string) => sample.http.post(path).set(user.auth);

  describe.each(ENDPOINTS)('POST $path', ({ path, valid, fields, refused }) => {
    it('a field of the wrong type, missing, too short, too long or with refused characters: 400 naming it', async () => {
      const cases: Array<[string, string, unknown]> = [];
      for (const { name, min, max } of fields) {
        for (const [label, value] of WRONG_TYPES) cases.push([name, `${name} ${label}`, value]);
        cases.push([name, `${name} of ${min - 1} characters`, 'x'.repeat(min - 1)]);
        cases.push([name, `${name} of ${max + 1} characters`, 'x'.repeat(max + 1)]);
        for (const value of refused?.[name] ?? []) cases.push([name, `${name} ${JSON.stringify(value)}`, value]);
      }
      const seen: Outcome[] = [];
      const expected: Outcome[] = [];
      for (const [name, label, value] of cases) {
        const body: Record<string, unknown> = { ...valid, [name]: value };
        if (value === undefined) delete body[name];
        const res = await post(path).send(body);
        seen.push({ case: label, status: res.status, body: res.body });
        expected.push({ case: label, status: 400, body: namesField(name) });
      }
      expect(seen).toEqual(expected);
    });

    it('a form body is held to the same rules: a repeated or nested field is a 400 naming it', async () => {
      const [{ name }] = fields;
      const rest = Object.entries(valid)
        .filter(([key]) => key !== name)
        .map(([key, value]) => `&${key}=${encodeURIComponent(value)}`)
        .join('');
      const seen: Outcome[] = [];
      for (const form of [`${name}=first&${name}=second${rest}`, `${name}[x]=nested${rest}`]) {
        const res = await post(path).type('form').send(form);
        seen.push({ case: form, status: res.status, body: res.body });
      }
      expect(seen).toEqual(seen.map(({ case: form }) => ({ case: form, status: 400, body: namesField(name) })));
    });

    it('a body that is not an object, or none: 400, never a 500', async () => {
      const seen: Outcome[] = [];
      const bodies: Array<[string, string, string | undefined]> = [
        ['a JSON array', 'application/json', JSON.stringify([valid])],
        ['a JSON string', 'application/json', JSON.stringify('text')],
        ['a JSON number', 'application/json', '42'],
        ['JSON null', 'application/json', 'null'],
        ['broken JSON', 'application/json', '{"a":'],
        ['plain text', 'text/plain', JSON.stringify(valid)],
        ['no body', 'application/json', undefined],
      ];
      for (const [label, type, text] of bodies) {
        const req = post(path).set('Content-Type', type);
        const res = await (text === undefined ? req : req.send(text));
        seen.push({ case: label, status: res.status, body: res.body });
      }
      expect(seen).toEqual(
        bodies.map(([label]) => ({
          case: label,
          status: 400,
          body: { statusCode: 400, error: 'Bad Request', message: expect.any(String) },
        })),
      );
    });
  });
});

describe('sample OAuth endpoints', () => {
  let sample: RunningSample;
  const basic = { Authorization: `Basic ${Buffer.from('client:secret').toString('base64')}` };

  beforeAll(async () => {
    sample = await startSample(tempSqliteDatabase(), { introspectionClient: { id: 'client', secret: 'secret' } });
  });
  afterAll(async () => {
    await sample?.close();
  });

  it('POST /oauth/revoke and /oauth/introspect: a token or hint of the wrong type is an unknown token (200), never a 500', async () => {
    const seen: Outcome[] = [];
    const expected: Outcome[] = [];
    for (const [label, value] of WRONG_TYPES.filter(([label]) => label !== 'missing')) {
      for (const body of [{ token: value }, { token: 'unknown', token_type_hint: value }]) {
        const key = `${JSON.stringify(body)} (${label})`;
        const revoke = await sample.http.post('/oauth/revoke').send(body);
        seen.push({ case: `revoke ${key}`, status: revoke.status, body: revoke.body });
        expected.push({ case: `revoke ${key}`, status: 200, body: {} });
        const introspect = await sample.http.post('/oauth/introspect').set(basic).send(body);
        seen.push({ case: `introspect ${key}`, status: introspect.status, body: introspect.body });
        expected.push({ case: `introspect ${key}`, status: 200, body: { active: false } });
      }
    }
    expect(seen).toEqual(expected);
  });
});

describe('sample body size', () => {
  let sample: RunningSample;

  beforeAll(async () => {
    sample = await startSample(tempSqliteDatabase());
  });
  afterAll(async () => {
    await sample?.close();
  });

  it('a body over 16 kB is a 413 with a JSON body, JSON or form; one under it reaches validation', async () => {
    const seen: Outcome[] = [];
    for (const size of [15_000, 16_500]) {
      const padding = 'x'.repeat(size - 40);
      const json = await sample.http
        .post('/auth/login')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ username: padding, password: 'any password' }));
      seen.push({ case: `JSON, ${size} bytes`, status: json.status, body: json.body });
      const form = await sample.http.post('/auth/login').type('form').send(`username=${padding}&password=any+password`);
      seen.push({ case: `form, ${size} bytes`, status: form.status, body: form.body });
    }
    const tooLarge = { statusCode: 413, message: expect.any(String) };
    expect(seen).toEqual([
      { case: 'JSON, 15000 bytes', status: 400, body: namesField('username') },
      { case: 'form, 15000 bytes', status: 400, body: namesField('username') },
      { case: 'JSON, 16500 bytes', status: 413, body: tooLarge },
      { case: 'form, 16500 bytes', status: 413, body: tooLarge },
    ]);
  });
});
