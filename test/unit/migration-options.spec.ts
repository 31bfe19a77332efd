import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { TokenStore, type JwtRevocationModuleOptions } from 'nestjs-jwt-revocation';
import { JwtRevocationConfig, RevocationState } from 'nestjs-jwt-revocation/testing';
import { TEST_SECRET } from '../support/keys.js';

const OLD_SECRET = 'the-old-secret';
const withMigration = (migration: unknown, extra: Record<string, unknown> = {}) =>
  JwtRevocationConfig.from({ signing: { secret: TEST_SECRET }, migration, ...extra } as JwtRevocationModuleOptions);
const window = (overrides: Record<string, unknown> = {}, verify: Record<string, unknown> = {}) => ({
  acceptUntil: '2030-01-01T00:00:00Z',
  maxTokenLifetime: 3600,
  verify: { secret: OLD_SECRET, algorithms: ['HS256'], ...verify },
  ...overrides,
});
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;

describe('the migration option', () => {
  it('resolves the old key into a KeyObject and the end into epoch ms', () => {
    const { migration } = withMigration(window());
    expect(migration?.acceptUntil).toBe(Date.UTC(2030, 0, 1));
    expect(migration?.key.type).toBe('secret');
    expect(withMigration(window({ acceptUntil: new Date(5000) })).migration?.acceptUntil).toBe(5000);
    expect(withMigration(window({}, { secret: undefined, publicKey: ec, algorithms: ['ES256'] })).migration?.key).toBe(
      ec,
    );
  });

  it('is off unless given', () => {
    expect(JwtRevocationConfig.from({ signing: { secret: TEST_SECRET } }).migration).toBeUndefined();
  });

  it.each<[string, unknown, RegExp]>([
    ['not an object', 'soon', /option "migration" must be/],
    ['an unknown key', window({ until: 1 }), /unknown option "migration.until"/],
    ['an unknown verify key', window({}, { algorithm: 'HS256' }), /unknown option "migration.verify.algorithm"/],
    ['no acceptUntil', window({ acceptUntil: undefined }), /"migration.acceptUntil" must be a Date or an ISO 8601/],
    ['a local time', window({ acceptUntil: '2030-01-01T00:00:00' }), /"migration.acceptUntil"/],
    ['an invalid Date', window({ acceptUntil: new Date('nope') }), /"migration.acceptUntil"/],
    ['no maxTokenLifetime', window({ maxTokenLifetime: undefined }), /"migration.maxTokenLifetime" must be a positive/],
    ['no verify', window({ verify: undefined }), /"migration.verify" is required/],
    ['neither secret nor publicKey', window({}, { secret: undefined }), /needs a secret .* or a publicKey/],
    ['both secret and publicKey', window({}, { publicKey: ec }), /not both/],
    ['an empty secret', window({}, { secret: '' }), /non-empty string/],
    ['no algorithms', window({}, { algorithms: [] }), /"migration.verify.algorithms" must be a non-empty array/],
    ['alg none', window({}, { algorithms: ['HS256', 'none'] }), /must not include "none"/],
    ['an unknown alg', window({}, { algorithms: ['HS1'] }), /"HS1" is not supported/],
    ['RS256 with a secret', window({}, { algorithms: ['RS256'] }), /"RS256" cannot be verified with the secret key/],
    [
      'HS256 with a public key',
      window({}, { secret: undefined, publicKey: rsa, algorithms: ['HS256'] }),
      /"HS256" cannot be verified with the rsa key/,
    ],
    [
      'ES384 with a P-256 key',
      window({}, { secret: undefined, publicKey: ec, algorithms: ['ES384'] }),
      /"ES384" cannot be verified/,
    ],
    ['a bad public key', window({}, { secret: undefined, publicKey: 'nope', algorithms: ['RS256'] }), /not a valid/],
    ['an empty issuer', window({}, { issuer: '' }), /"migration.verify.issuer"/],
    ['an empty audience list', window({}, { audience: [] }), /"migration.verify.audience"/],
  ])('stops the app at bootstrap on %s, naming the option', (_name, migration, message) => {
    expect(() => withMigration(migration)).toThrow(message);
  });
});

describe('how long the state remembers a revocation with a migration window', () => {
  const T = 1_900_000_000;
  const stateFor = (acceptUntil: number) =>
    new RevocationState(
      withMigration(window({ acceptUntil: new Date(acceptUntil * 1000) }), { accessTokenTtl: 900, clockTolerance: 5 }),
      null as unknown as TokenStore,
    );

  it('as long as an old token it kills can live, while the window is open', () => {
    expect(stateFor(T + 86_400).rememberUntil(T)).toBe(T + 3600 + 5);
  });

  it('no longer than the window, and never less than our own tokens need', () => {
    expect(stateFor(T + 1800).rememberUntil(T)).toBe(T + 1800 + 5);
    expect(stateFor(T - 60).rememberUntil(T)).toBe(T + 900 + 5);
  });
});
