import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { generateKeyPairSync } from 'node:crypto';
import { JwtRevocationModule, type JwtRevocationModuleOptions } from 'nestjs-jwt-revocation';
import { tempSqliteDatabase } from '../support/databases.js';
import { TEST_SECRET } from '../support/keys.js';

describe('bootstrap fails on a wrong option, naming it', () => {
  const good = { signing: { secret: TEST_SECRET } };

  async function boot(options: unknown): Promise<void> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(tempSqliteDatabase()),
        JwtRevocationModule.forRoot(options as JwtRevocationModuleOptions),
      ],
    })
      .setLogger({ log() {}, error() {}, warn() {} })
      .compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await app.init();
    } finally {
      await app.close();
    }
  }

  async function bootAsync(options: unknown): Promise<void> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot(tempSqliteDatabase()),
        JwtRevocationModule.forRootAsync({ useFactory: async () => options as JwtRevocationModuleOptions }),
      ],
    })
      .setLogger({ log() {}, error() {}, warn() {} })
      .compile();
    await moduleRef.close();
  }

  it('control: the same base options boot', async () => {
    await expect(boot(good)).resolves.toBeUndefined();
  });

  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;

  it.each<[string, unknown, RegExp]>([
    ['an unknown top-level option', { ...good, foo: 1 }, /unknown option "foo"/],
    ['an unknown signing option', { signing: { secret: TEST_SECRET, secrt: 'x' } }, /unknown option "signing\.secrt"/],
    ['a 10-byte secret', { signing: { secret: '0123456789' } }, /signing\.secret is 10 bytes/],
    [
      'both secret and privateKey',
      { signing: { secret: TEST_SECRET, privateKey: rsa } },
      /signing\.secret and signing\.privateKey/,
    ],
    [
      'algorithm EdDSA with an RSA key',
      { signing: { algorithm: 'EdDSA', privateKey: rsa, kid: 'k' } },
      /signing\.privateKey must be an Ed25519 key/,
    ],
    ['tokenFrom with the header off and no cookie', { ...good, tokenFrom: { header: false } }, /"tokenFrom"/],
    ['an invalid cookie name', { ...good, tokenFrom: { cookie: 'a b' } }, /"tokenFrom\.cookie"/],
    [
      'validateSubjectCacheTtl without validateSubject',
      { ...good, validateSubjectCacheTtl: 5 },
      /"validateSubjectCacheTtl"/,
    ],
    [
      'refreshTokenTtl shorter than accessTokenTtl',
      { ...good, accessTokenTtl: 600, refreshTokenTtl: 60 },
      /"refreshTokenTtl"/,
    ],
    ['an asymmetric key without kid', { signing: { algorithm: 'RS256', privateKey: rsa } }, /signing\.kid/],
    ['cookies without refreshPath', { ...good, cookies: {} }, /"cookies\.refreshPath" must be the path/],
    ['cookies with refreshPath /', { ...good, cookies: { refreshPath: '/' } }, /"cookies\.refreshPath" is "\/"/],
    [
      'cookies with a refreshPath that could end the attribute',
      { ...good, cookies: { refreshPath: '/auth;Domain=evil.com' } },
      /"cookies\.refreshPath"/,
    ],
    [
      "cookies with sameSite 'none'",
      { ...good, cookies: { refreshPath: '/r', sameSite: 'none' } },
      /"cookies\.sameSite" must be 'lax' or 'strict', got "none": 'none' would send the cookies with cross-site requests/,
    ],
    [
      'cookies with secure not a boolean',
      { ...good, cookies: { refreshPath: '/r', secure: 'yes' } },
      /"cookies\.secure"/,
    ],
    [
      'a __Host- access cookie without Secure',
      { ...good, cookies: { refreshPath: '/r', secure: false, accessCookieName: '__Host-at' } },
      /"cookies\.accessCookieName" \(__Host-at\) has a prefix that needs Secure/,
    ],
    [
      'a __Secure- refresh cookie without Secure (any case)',
      { ...good, cookies: { refreshPath: '/r', secure: false, refreshCookieName: '__SECURE-rt' } },
      /"cookies\.refreshCookieName" \(__SECURE-rt\) has a prefix that needs Secure/,
    ],
    [
      'a __Host- access cookie with a domain',
      { ...good, cookies: { refreshPath: '/r', domain: 'example.com', accessCookieName: '__Host-at' } },
      /__Host- prefix, which forbids "cookies\.domain"/,
    ],
    [
      'a __Host- refresh cookie (its Path is not /)',
      { ...good, cookies: { refreshPath: '/r', refreshCookieName: '__Host-rt' } },
      /__Host- prefix, which needs Path=\/ \(it is \/r\)/,
    ],
    [
      'cookies with a domain that is not a host name',
      { ...good, cookies: { refreshPath: '/r', domain: 'example.com; Secure' } },
      /"cookies\.domain" must be a host name/,
    ],
    [
      'an invalid cookie name in cookies',
      { ...good, cookies: { refreshPath: '/r', refreshCookieName: 'a b' } },
      /"cookies\.refreshCookieName" must be a cookie name/,
    ],
    [
      'one name for both cookies',
      { ...good, cookies: { refreshPath: '/r', accessCookieName: 'sid', refreshCookieName: 'sid' } },
      /name the same cookie/,
    ],
    [
      'a trusted origin with a path',
      { ...good, cookies: { refreshPath: '/r', trustedOrigins: ['https://app.example.com/'] } },
      /"cookies\.trustedOrigins" holds "https:\/\/app\.example\.com\/"/,
    ],
    [
      'a trusted origin "*"',
      { ...good, cookies: { refreshPath: '/r', trustedOrigins: ['*'] } },
      /"cookies\.trustedOrigins" holds "\*"/,
    ],
    [
      'a trusted origin "null"',
      { ...good, cookies: { refreshPath: '/r', trustedOrigins: ['null'] } },
      /"cookies\.trustedOrigins" holds "null"/,
    ],
    [
      'trustedOrigins not an array',
      { ...good, cookies: { refreshPath: '/r', trustedOrigins: 'https://a.example' } },
      /"cookies\.trustedOrigins" must be an array/,
    ],
    [
      'an unknown cookies option',
      { ...good, cookies: { refreshPath: '/r', httpOnly: false } },
      /unknown option "cookies\.httpOnly"/,
    ],
    [
      'both tokenFrom.cookie and cookies',
      { ...good, tokenFrom: { cookie: 'at' }, cookies: { refreshPath: '/r' } },
      /"tokenFrom\.cookie" and "cookies" are both set/,
    ],
  ])('forRoot with %s', async (_name, options, message) => {
    const error = await boot(options).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('JwtRevocationOptionsError');
    expect((error as Error).message).toMatch(message);
  });

  it('forRootAsync: a factory returning an unknown option fails the same way', async () => {
    await expect(bootAsync({ ...good, foo: 1 })).rejects.toThrow(/unknown option "foo"/);
    await expect(bootAsync(good)).resolves.toBeUndefined();
  });
});
