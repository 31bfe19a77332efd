import { describe, expect, it } from '@jest/globals';
import { InvalidTokenException } from 'nestjs-jwt-revocation';
import { checkAccessToken, JwtRevocationConfig } from 'nestjs-jwt-revocation/testing';
import { TEST_SECRET } from '../support/keys.js';

const NOW = 1_800_000_000;
/** accessTokenTtl 900, clockTolerance 5. */
const config = JwtRevocationConfig.from({ signing: { secret: TEST_SECRET }, accessTokenTtl: 900, clockTolerance: 5 });
const header = { alg: 'HS256', typ: 'at+jwt' };
const claims = { sub: 'user-1', jti: 'jti-1', sid: 'sid-1', ver: 0, iat: NOW, exp: NOW + 900 };

const check = (h: unknown, p: unknown) => checkAccessToken(h, p, config, NOW);
const refused = (h: unknown, p: unknown) => expect(() => check(h, p)).toThrow(InvalidTokenException);
/** The claims with `patch` applied; an undefined value deletes the claim. */
function withClaims(patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...claims, ...patch };
  for (const [key, value] of Object.entries(patch)) if (value === undefined) delete out[key];
  return out;
}

describe('checkAccessToken', () => {
  it('hands back the claims of a well-formed access token', () => {
    const extra = { ...claims, role: 'admin' };
    expect(check(header, extra)).toBe(extra);
  });

  it.each(['at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/At+Jwt'])(
    'accepts typ "%s" (RFC 9068, any case)',
    (typ) => {
      expect(check({ ...header, typ }, claims)).toEqual(claims);
    },
  );

  describe('the header', () => {
    it.each<[string, unknown]>([
      ['null', null],
      ['a string', 'at+jwt'],
      ['without typ', { alg: 'HS256' }],
      ['typ JWT', { ...header, typ: 'JWT' }],
      ['typ application/jwt', { ...header, typ: 'application/jwt' }],
      ['typ that only contains at+jwt', { ...header, typ: 'x-at+jwt' }],
      ['a typ that is no string', { ...header, typ: ['at+jwt'] }],
      ['crit', { ...header, crit: ['exp'] }],
      ['crit, even empty', { ...header, crit: [] }],
      ['jwk', { ...header, jwk: { kty: 'oct', k: 'AAAA' } }],
      ['jku', { ...header, jku: 'https://attacker.example/keys' }],
      ['x5u', { ...header, x5u: 'https://attacker.example/cert' }],
      ['x5c', { ...header, x5c: ['MIIB'] }],
      ['jwk set to undefined', { ...header, jwk: undefined }],
    ])('refuses %s', (_name, h) => {
      refused(h, claims);
    });
  });

  describe('the payload', () => {
    it.each<[string, unknown]>([
      ['null', null],
      ['an array', [claims]],
      ['a string', JSON.stringify(claims)],
      ['a number', 42],
    ])('refuses %s', (_name, p) => {
      refused(header, p);
    });

    it.each<[string, Record<string, unknown>]>([
      ['no sub', { sub: undefined }],
      ['an empty sub', { sub: '' }],
      ['a sub that is no string', { sub: 42 }],
      ['a sub over 255 characters', { sub: 's'.repeat(256) }],
      ['no jti', { jti: undefined }],
      ['a jti over 64 characters', { jti: 'j'.repeat(65) }],
      ['a jti that is no string', { jti: ['jti-1'] }],
      ['no sid', { sid: undefined }],
      ['a sid over 64 characters', { sid: 's'.repeat(65) }],
      ['no ver', { ver: undefined }],
      ['a negative ver', { ver: -1 }],
      ['a fractional ver', { ver: 0.5 }],
      ['a ver as a string', { ver: '0' }],
      ['no iat', { iat: undefined }],
      ['iat 0', { iat: 0, exp: 900 }],
      ['a fractional iat', { iat: NOW + 0.5 }],
      ['an iat as a string', { iat: String(NOW) }],
      ['no exp', { exp: undefined }],
      ['an exp beyond safe integers', { exp: Number.MAX_SAFE_INTEGER + 2 }],
      ['exp equal to iat', { exp: NOW }],
      ['exp before iat', { exp: NOW - 1 }],
      ['a lifetime one second over accessTokenTtl', { exp: NOW + 901 }],
      ['an iat beyond the clock tolerance', { iat: NOW + 6, exp: NOW + 600 }],
    ])('refuses %s', (_name, patch) => {
      refused(header, withClaims(patch));
    });

    it.each<[string, Record<string, unknown>]>([
      ['a sub of 255 characters', { sub: 's'.repeat(255) }],
      ['a jti and sid of 64 characters', { jti: 'j'.repeat(64), sid: 's'.repeat(64) }],
      ['a lifetime of exactly accessTokenTtl', { exp: NOW + 900 }],
      ['a lifetime of one second', { exp: NOW + 1 }],
      ['an iat ahead by the clock tolerance exactly', { iat: NOW + 5, exp: NOW + 600 }],
      ['ver above 0', { ver: 7 }],
      ['an exp passed by less than the clock tolerance', { iat: NOW - 600, exp: NOW - 4 }],
      ['an nbf ahead by the clock tolerance exactly', { nbf: NOW + 5 }],
    ])('accepts %s', (_name, patch) => {
      expect(check(header, withClaims(patch))).toEqual(withClaims(patch));
    });
  });

  describe("the registered claims, by jsonwebtoken's rules", () => {
    it.each<[string, Record<string, unknown>]>([
      ['an exp passed by the clock tolerance', { iat: NOW - 600, exp: NOW - 5 }],
      ['an exp long past', { iat: NOW - 2000, exp: NOW - 1100 }],
      ['an nbf beyond the clock tolerance', { nbf: NOW + 6 }],
      ['an nbf that is no number', { nbf: String(NOW) }],
    ])('refuses %s', (_name, patch) => {
      refused(header, withClaims(patch));
    });

    it('with an issuer configured: only that iss', () => {
      const withIssuer = JwtRevocationConfig.from({
        signing: { secret: TEST_SECRET },
        accessTokenTtl: 900,
        issuer: 'https://issuer.example',
      });
      const verify = (patch: Record<string, unknown>) => () =>
        checkAccessToken(header, withClaims(patch), withIssuer, NOW);
      expect(verify({ iss: 'https://issuer.example' })).not.toThrow();
      expect(verify({})).toThrow(InvalidTokenException);
      expect(verify({ iss: 'https://attacker.example' })).toThrow(InvalidTokenException);
      expect(verify({ iss: ['https://issuer.example'] })).toThrow(InvalidTokenException);
    });

    it('with audiences configured: some aud of the token is one of them', () => {
      const withAudience = JwtRevocationConfig.from({
        signing: { secret: TEST_SECRET },
        accessTokenTtl: 900,
        audience: ['api', 'admin'],
      });
      const verify = (patch: Record<string, unknown>) => () =>
        checkAccessToken(header, withClaims(patch), withAudience, NOW);
      expect(verify({ aud: 'api' })).not.toThrow();
      expect(verify({ aud: ['other', 'admin'] })).not.toThrow();
      expect(verify({})).toThrow(InvalidTokenException);
      expect(verify({ aud: 'other' })).toThrow(InvalidTokenException);
      expect(verify({ aud: [] })).toThrow(InvalidTokenException);
    });

    it('without an issuer or audience configured, iss and aud are not looked at', () => {
      expect(check(header, withClaims({ iss: 'anyone', aud: 'anything' }))).toMatchObject({
        iss: 'anyone',
        aud: 'anything',
      });
    });
  });

  it('refuses with the 401 every rejection gets, naming no reason', () => {
    let error: unknown;
    try {
      check(header, withClaims({ sub: undefined }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidTokenException);
    expect((error as InvalidTokenException).getStatus()).toBe(401);
    expect((error as InvalidTokenException).getResponse()).toEqual({
      statusCode: 401,
      message: 'Invalid access token',
      error: 'Unauthorized',
    });
  });
});
