import { describe, expect, it } from '@jest/globals';
import { KeyRing, type JwtRevocationModuleOptions } from 'nestjs-jwt-revocation';
import { JwtRevocationConfig } from 'nestjs-jwt-revocation/testing';
import { keyPair, TEST_SECRET } from '../support/keys.js';

const ringOf = (signing: JwtRevocationModuleOptions['signing']) => new KeyRing(JwtRevocationConfig.from({ signing }));

const ec = keyPair('ES256');
const rsa = keyPair('RS256');
/** Three keys, two algorithms: `hmac` is current unless `current` says otherwise. */
const keySet = (current?: string) =>
  ringOf({
    keys: [
      { kid: 'hmac', secret: TEST_SECRET },
      { kid: 'ec', algorithm: 'ES256', privateKey: ec.privateKey },
      { kid: 'rsa', algorithm: 'RS256', privateKey: rsa.privateKey },
    ],
    ...(current ? { current } : {}),
  });

describe('KeyRing', () => {
  describe('one secret without kid', () => {
    it('signs with it, and points a token without kid and with its algorithm at it', () => {
      const ring = ringOf({ secret: TEST_SECRET });
      expect(ring.current).toMatchObject({ algorithm: 'HS256', kid: undefined });
      expect(ring.forHeader(undefined, 'HS256')).toBe(ring.current);
      expect(ring.live).toEqual([ring.current]);
      expect(ring.algorithms).toEqual(['HS256']);
    });

    it('finds no key for another algorithm, for a kid, or for an alg that is not a string', () => {
      const ring = ringOf({ secret: TEST_SECRET });
      for (const alg of ['HS384', 'HS512', 'RS256', 'ES256', 'none', 'hs256', undefined, null, ['HS256']]) {
        expect(ring.forHeader(undefined, alg)).toBeUndefined();
      }
      expect(ring.forHeader('any', 'HS256')).toBeUndefined();
      expect(ring.forHeader('', 'HS256')).toBeUndefined();
    });
  });

  describe('a key with a kid', () => {
    it('a token must name the kid: without one it points at no key', () => {
      const ring = ringOf({ algorithm: 'ES256', privateKey: ec.privateKey, kid: 'k1' });
      expect(ring.forHeader('k1', 'ES256')).toBe(ring.current);
      expect(ring.forHeader(undefined, 'ES256')).toBeUndefined();
      expect(ring.forHeader('k1', 'RS256')).toBeUndefined();
      expect(ring.forHeader('k1', 'HS256')).toBeUndefined();
      expect(ring.forHeader('k2', 'ES256')).toBeUndefined();
    });

    it('a kid that is no string, or names an Object member, points at no key', () => {
      const ring = ringOf({ algorithm: 'ES256', privateKey: ec.privateKey, kid: 'k1' });
      for (const kid of [
        1,
        null,
        ['k1'],
        { toString: () => 'k1' },
        '__proto__',
        'constructor',
        'toString',
        'hasOwnProperty',
      ]) {
        expect(ring.forHeader(kid, 'ES256')).toBeUndefined();
      }
    });
  });

  describe('a key set', () => {
    it('the first key is current unless `current` names another; live lists the current first, each key once', () => {
      const first = keySet();
      expect(first.current.kid).toBe('hmac');
      expect(first.live.map((key) => key.kid)).toEqual(['hmac', 'ec', 'rsa']);
      const named = keySet('rsa');
      expect(named.current).toMatchObject({ kid: 'rsa', algorithm: 'RS256' });
      expect(named.live.map((key) => key.kid)).toEqual(['rsa', 'hmac', 'ec']);
    });

    it('algorithms: each algorithm of a live key, once', () => {
      expect(keySet().algorithms.sort()).toEqual(['ES256', 'HS256', 'RS256']);
      const twoHmac = ringOf({
        keys: [
          { kid: 'a', secret: TEST_SECRET },
          { kid: 'b', secret: `${TEST_SECRET}-b` },
        ],
      });
      expect(twoHmac.algorithms).toEqual(['HS256']);
    });

    it('forHeader: each kid with its own algorithm, nothing else', () => {
      const ring = keySet();
      expect(ring.forHeader('hmac', 'HS256')?.kid).toBe('hmac');
      expect(ring.forHeader('ec', 'ES256')?.kid).toBe('ec');
      expect(ring.forHeader('rsa', 'RS256')?.kid).toBe('rsa');
      expect(ring.forHeader('ec', 'RS256')).toBeUndefined();
      expect(ring.forHeader('rsa', 'HS256')).toBeUndefined();
      expect(ring.forHeader('hmac', 'ES256')).toBeUndefined();
      // The current key has a kid: a token without one points at nothing.
      expect(ring.forHeader(undefined, 'HS256')).toBeUndefined();
    });
  });

  describe('retire', () => {
    it('drops a key at once: its kid points at nothing, it leaves live, and its algorithm with it', () => {
      const ring = keySet();
      expect(ring.retire('ec')).toBe(true);
      expect(ring.forHeader('ec', 'ES256')).toBeUndefined();
      expect(ring.live.map((key) => key.kid)).toEqual(['hmac', 'rsa']);
      expect(ring.algorithms.sort()).toEqual(['HS256', 'RS256']);
      // The others are untouched.
      expect(ring.forHeader('rsa', 'RS256')?.kid).toBe('rsa');
    });

    it('says false for a kid it does not hold, or no longer holds', () => {
      const ring = keySet();
      expect(ring.retire('nope')).toBe(false);
      expect(ring.retire('ec')).toBe(true);
      expect(ring.retire('ec')).toBe(false);
    });

    it('refuses to retire the current key, and keeps it', () => {
      const ring = keySet('rsa');
      expect(() => ring.retire('rsa')).toThrow(/"rsa" signs new tokens/);
      expect(ring.current.kid).toBe('rsa');
      expect(ring.forHeader('rsa', 'RS256')?.kid).toBe('rsa');
    });
  });

  describe('use', () => {
    it('makes another live key current: it signs, and live lists it first', () => {
      const ring = keySet();
      ring.use('ec');
      expect(ring.current).toMatchObject({ kid: 'ec', algorithm: 'ES256' });
      expect(ring.live.map((key) => key.kid)).toEqual(['ec', 'hmac', 'rsa']);
      // The key that was current still verifies, and can be retired now.
      expect(ring.forHeader('hmac', 'HS256')?.kid).toBe('hmac');
      expect(ring.retire('hmac')).toBe(true);
    });

    it('refuses a kid that is unknown or retired, and keeps the current key', () => {
      const ring = keySet();
      expect(() => ring.use('nope')).toThrow(/no live key "nope"/);
      ring.retire('ec');
      expect(() => ring.use('ec')).toThrow(/no live key "ec"/);
      expect(ring.current.kid).toBe('hmac');
    });
  });
});
