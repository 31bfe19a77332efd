import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { type JwtRevocationModuleOptions } from 'nestjs-jwt-revocation';
import { JwtRevocationConfig } from 'nestjs-jwt-revocation/testing';
import { TEST_SECRET } from '../support/keys.js';

const from = (options: Record<string, unknown>) =>
  JwtRevocationConfig.from(options as unknown as JwtRevocationModuleOptions);
const pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }) as string;

describe('JwtRevocationConfig', () => {
  it('applies the defaults and resolves the secret into a KeyObject, never a string', () => {
    const config = from({ signing: { secret: TEST_SECRET } });
    expect(config).toMatchObject({
      accessTokenTtl: 900,
      refreshTokenTtl: 2_592_000,
      clockTolerance: 5,
      mode: 'denylist',
      failClosed: true,
    });
    expect(config.keys[0].verifyKey).toBeInstanceOf(KeyObject);
    expect(config.keys[0].algorithm).toBe('HS256');
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['an unknown option', { signing: { secret: TEST_SECRET }, acessTokenTtl: 60 }, /unknown option "acessTokenTtl"/],
    ['an unknown signing option', { signing: { secret: TEST_SECRET, algo: 'HS256' } }, /unknown option "signing.algo"/],
    ['no signing', {}, /"signing" is required/],
    ['a short secret', { signing: { secret: 'short' } }, /signing.secret is 5 bytes; HS256 needs at least 32/],
    [
      'HS512 with a 40-byte secret',
      { signing: { secret: 'x'.repeat(40), algorithm: 'HS512' } },
      /HS512 needs at least 64/,
    ],
    ['secret and privateKey together', { signing: { secret: TEST_SECRET, privateKey: 'x' } }, /contradict/],
    [
      'EdDSA with an Ed448 key',
      { signing: { algorithm: 'EdDSA', privateKey: pem(generateKeyPairSync('ed448').privateKey), kid: 'k' } },
      /must be an Ed25519 key for EdDSA/,
    ],
    [
      'EdDSA with a P-256 key',
      {
        signing: {
          algorithm: 'EdDSA',
          privateKey: pem(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey),
          kid: 'k',
        },
      },
      /must be an Ed25519 key for EdDSA/,
    ],
    [
      'EdDSA without a kid',
      { signing: { algorithm: 'EdDSA', privateKey: pem(generateKeyPairSync('ed25519').privateKey) } },
      /kid is required/,
    ],
    [
      'EdDSA with the public key of another pair',
      {
        signing: {
          algorithm: 'EdDSA',
          privateKey: pem(generateKeyPairSync('ed25519').privateKey),
          publicKey: generateKeyPairSync('ed25519').publicKey,
          kid: 'k',
        },
      },
      /publicKey does not match/,
    ],
    [
      'RS256 with a 1024-bit key',
      {
        signing: {
          algorithm: 'RS256',
          privateKey: pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey),
          kid: 'k',
        },
      },
      /at least 2048 bits/,
    ],
    [
      'ES256 with a P-384 key',
      {
        signing: {
          algorithm: 'ES256',
          privateKey: pem(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey),
          kid: 'k',
        },
      },
      /P-256/,
    ],
    [
      'an asymmetric key without kid',
      {
        signing: { algorithm: 'ES256', privateKey: pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey) },
      },
      /kid is required/,
    ],
    [
      'a public key that does not match',
      {
        signing: {
          algorithm: 'ES256',
          privateKey: pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
          publicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
          kid: 'k',
        },
      },
      /publicKey does not match/,
    ],
    [
      'tokenFrom with no header and no cookie',
      { signing: { secret: TEST_SECRET }, tokenFrom: { header: false } },
      /no token could ever be read/,
    ],
    [
      'refreshTokenTtl below accessTokenTtl',
      { signing: { secret: TEST_SECRET }, accessTokenTtl: 600, refreshTokenTtl: 60 },
      /"refreshTokenTtl" \(60\) is shorter/,
    ],
    [
      'validateSubjectCacheTtl without validateSubject',
      { signing: { secret: TEST_SECRET }, validateSubjectCacheTtl: 0 },
      /"validateSubjectCacheTtl" is set but "validateSubject" is not/,
    ],
    [
      'a fractional ttl',
      { signing: { secret: TEST_SECRET }, accessTokenTtl: 1.5 },
      /"accessTokenTtl" must be a positive whole number/,
    ],
    [
      'a negative tolerance',
      { signing: { secret: TEST_SECRET }, clockTolerance: -1 },
      /"clockTolerance" must be a non-negative/,
    ],
    [
      'maxStaleness not above syncInterval',
      { signing: { secret: TEST_SECRET }, syncInterval: 10, maxStaleness: 10 },
      /"maxStaleness" \(10\) must be longer/,
    ],
    [
      'propagation redis without redis',
      { signing: { secret: TEST_SECRET }, propagation: 'redis' },
      /"redis" is not set/,
    ],
    [
      'a redis option that is neither URL nor client',
      { signing: { secret: TEST_SECRET }, redis: 'localhost:6379' },
      /redis:\/\//,
    ],
    [
      'a key set with duplicate kids',
      {
        signing: {
          keys: [
            { secret: TEST_SECRET, kid: 'a' },
            { secret: TEST_SECRET, kid: 'a' },
          ],
        },
      },
      /kid "a" appears twice/,
    ],
    [
      'a key set naming a missing current key',
      { signing: { keys: [{ secret: TEST_SECRET, kid: 'a' }], current: 'b' } },
      /signing.current "b" names no key/,
    ],
    [
      'archiveSafetyMargin under clockTolerance',
      { signing: { secret: TEST_SECRET }, clockTolerance: 30, archiveSafetyMargin: 10 },
      /"archiveSafetyMargin" \(10\) is below "clockTolerance"/,
    ],
    [
      'an unknown mode',
      { signing: { secret: TEST_SECRET }, mode: 'blocklist' },
      /"mode" must be 'denylist' or 'allowlist'/,
    ],
    [
      'a renewal threshold as long as the access-token lifetime',
      { signing: { secret: TEST_SECRET }, accessTokenTtl: 600, slidingRenewal: { threshold: 600 } },
      /"slidingRenewal.threshold" \(600\) must be less than "accessTokenTtl" \(600\)/,
    ],
    [
      'a renewal threshold that is not a whole number of seconds',
      { signing: { secret: TEST_SECRET }, slidingRenewal: { threshold: 0.5 } },
      /"slidingRenewal.threshold" must be a positive whole number of seconds, got 0.5/,
    ],
    [
      'slidingRenewal without a threshold',
      { signing: { secret: TEST_SECRET }, slidingRenewal: true },
      /"slidingRenewal" must be an object such as \{ threshold: 300 \}/,
    ],
    [
      'an unknown slidingRenewal option',
      { signing: { secret: TEST_SECRET }, slidingRenewal: { threshold: 60, window: 5 } },
      /unknown option "slidingRenewal.window"/,
    ],
    [
      'a renewal header that is no header name',
      { signing: { secret: TEST_SECRET }, slidingRenewal: { threshold: 60, header: 'X Token' } },
      /"slidingRenewal.header" must be an HTTP header name/,
    ],
  ])('refuses %s, naming it', (_name, options, message) => {
    expect(() => from(options)).toThrow(message);
  });

  it('sliding renewal is off unless given; given, it gets the default header', () => {
    expect(from({ signing: { secret: TEST_SECRET } }).slidingRenewal).toBeUndefined();
    expect(from({ signing: { secret: TEST_SECRET }, slidingRenewal: { threshold: 300 } }).slidingRenewal).toEqual({
      threshold: 300,
      header: 'X-Renewed-Access-Token',
    });
  });

  it('accepts RS256 (2048 bits) and ES256 keys, deriving the public key', () => {
    const rsa = from({
      signing: {
        algorithm: 'RS256',
        privateKey: pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey),
        kid: 'r1',
      },
    });
    expect(rsa.keys[0].verifyKey.type).toBe('public');
    const ec = from({
      signing: {
        algorithm: 'ES256',
        privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
        kid: 'e1',
      },
    });
    expect(ec.keys[0]).toMatchObject({ algorithm: 'ES256', kid: 'e1' });
  });

  it('puts the current key of a key set first', () => {
    const config = from({
      signing: {
        keys: [
          { secret: TEST_SECRET, kid: 'old' },
          { secret: `${TEST_SECRET}2`, kid: 'new' },
        ],
        current: 'new',
      },
    });
    expect(config.keys.map((k) => k.kid)).toEqual(['new', 'old']);
  });
});
