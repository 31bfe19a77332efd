import { describe, expect, it } from '@jest/globals';
import type { JwtRevocationModuleOptions } from 'nestjs-jwt-revocation';
import { createTokenExtractor, JwtRevocationConfig } from 'nestjs-jwt-revocation/testing';
import { headerOf } from '../../lib/request/token-extractor.js';
import { TEST_SECRET } from '../support/keys.js';

type Headers = Record<string, string | string[] | undefined>;

function extractorWith(options: Partial<JwtRevocationModuleOptions> = {}): (headers: Headers) => string | null {
  const extract = createTokenExtractor(JwtRevocationConfig.from({ signing: { secret: TEST_SECRET }, ...options }));
  return (headers) => extract({ headers });
}

describe('createTokenExtractor', () => {
  describe('from the Authorization header (the default)', () => {
    const extract = extractorWith();

    it('reads a Bearer token, the scheme in any case, with spaces around', () => {
      expect(extract({ authorization: 'Bearer a.b.c' })).toBe('a.b.c');
      expect(extract({ authorization: 'bearer a.b.c' })).toBe('a.b.c');
      expect(extract({ authorization: 'BEARER a.b.c' })).toBe('a.b.c');
      expect(extract({ authorization: 'Bearer    a.b.c   ' })).toBe('a.b.c');
    });

    it('a header sent as a one-value array is no string either: no token', () => {
      expect(extract({ authorization: ['Bearer a.b.c'] })).toBeNull();
    });

    it.each<[string, Headers]>([
      ['no header', {}],
      ['another scheme', { authorization: 'Basic dXNlcjpwdw==' }],
      ['the scheme alone', { authorization: 'Bearer' }],
      ['the scheme and a space', { authorization: 'Bearer ' }],
      ['two values', { authorization: 'Bearer a.b.c d.e.f' }],
      ['no space after the scheme', { authorization: 'Bearera.b.c' }],
      ['a tab instead of a space', { authorization: 'Bearer\ta.b.c' }],
      ['the scheme inside a word', { authorization: 'XBearer a.b.c' }],
      ['a header sent twice (an array)', { authorization: ['Bearer a.b.c', 'Bearer d.e.f'] }],
    ])('finds no token with %s', (_name, headers) => {
      expect(extract(headers)).toBeNull();
    });

    it('ignores cookies when none is configured', () => {
      expect(extract({ cookie: 'at=a.b.c; access_token=a.b.c' })).toBeNull();
    });
  });

  describe('from a cookie only: { header: false, cookie: "at" }', () => {
    const extract = extractorWith({ tokenFrom: { header: false, cookie: 'at' } });

    it('reads the named cookie, alone or among others, with spaces around the pair', () => {
      expect(extract({ cookie: 'at=a.b.c' })).toBe('a.b.c');
      expect(extract({ cookie: 'theme=dark; at=a.b.c; lang=en' })).toBe('a.b.c');
      expect(extract({ cookie: 'theme=dark;   at=a.b.c  ' })).toBe('a.b.c');
    });

    it('takes the first cookie of that name', () => {
      expect(extract({ cookie: 'at=first; at=second' })).toBe('first');
    });

    it('unquotes a quoted value and percent-decodes it', () => {
      expect(extract({ cookie: 'at="a.b.c"' })).toBe('a.b.c');
      expect(extract({ cookie: 'at=a%2Eb%2Ec' })).toBe('a.b.c');
    });

    it('a quote on one side only is part of the value', () => {
      expect(extract({ cookie: 'at="a.b.c' })).toBe('"a.b.c');
      expect(extract({ cookie: 'at=a.b.c"' })).toBe('a.b.c"');
    });

    it('a first cookie of that name that does not decode is no token: a later one does not stand in', () => {
      expect(extract({ cookie: 'at=%E0%A4%A; at=a.b.c' })).toBeNull();
    });

    it('a pair without "=" is no cookie of that name, even one letter longer', () => {
      expect(extract({ cookie: 'atx' })).toBeNull();
      expect(extract({ cookie: 'atx; theme=dark' })).toBeNull();
    });

    it.each<[string, Headers]>([
      ['no cookie header', {}],
      ['cookies of other names', { cookie: 'xat=a.b.c; at2=a.b.c; AT=a.b.c' }],
      ['an empty value', { cookie: 'at=' }],
      ['a quoted empty value', { cookie: 'at=""' }],
      ['a value that is not valid percent-encoding', { cookie: 'at=%E0%A4%A' }],
      ['a pair without "="', { cookie: 'at' }],
      ['the token in the Authorization header', { authorization: 'Bearer a.b.c' }],
    ])('finds no token with %s', (_name, headers) => {
      expect(extract(headers)).toBeNull();
    });
  });

  describe('from both: { header: true, cookie: "at" }', () => {
    const extract = extractorWith({ tokenFrom: { header: true, cookie: 'at' } });

    it('the header first, the cookie when the header has no Bearer token', () => {
      expect(extract({ authorization: 'Bearer from.the.header', cookie: 'at=from.the.cookie' })).toBe(
        'from.the.header',
      );
      expect(extract({ cookie: 'at=from.the.cookie' })).toBe('from.the.cookie');
      expect(extract({ authorization: 'Basic dXNlcjpwdw==', cookie: 'at=from.the.cookie' })).toBe('from.the.cookie');
    });

    it('finds nothing when neither has a token', () => {
      expect(extract({ authorization: 'Basic dXNlcjpwdw==', cookie: 'theme=dark' })).toBeNull();
    });
  });

  describe('oversized tokens count as none', () => {
    it('the default maxTokenLength: 8192 characters pass, 8193 do not', () => {
      const extract = extractorWith({ tokenFrom: { header: true, cookie: 'at' } });
      expect(extract({ authorization: `Bearer ${'x'.repeat(8192)}` })).toHaveLength(8192);
      expect(extract({ authorization: `Bearer ${'x'.repeat(8193)}` })).toBeNull();
      expect(extract({ cookie: `at=${'x'.repeat(8192)}` })).toHaveLength(8192);
      expect(extract({ cookie: `at=${'x'.repeat(8193)}` })).toBeNull();
    });

    it('maxTokenLength 100: in the header and in the cookie', () => {
      const extract = extractorWith({ maxTokenLength: 100, tokenFrom: { header: true, cookie: 'at' } });
      expect(extract({ authorization: `Bearer ${'x'.repeat(100)}` })).toBe('x'.repeat(100));
      expect(extract({ authorization: `Bearer ${'x'.repeat(101)}` })).toBeNull();
      expect(extract({ cookie: `at=${'x'.repeat(100)}` })).toBe('x'.repeat(100));
      expect(extract({ cookie: `at=${'x'.repeat(101)}` })).toBeNull();
      // The length counts after decoding: 102 encoded characters that decode to 100 pass.
      expect(extract({ cookie: `at=${'x'.repeat(99)}%2E` })).toBe(`${'x'.repeat(99)}.`);
    });

    it('an oversized header token is not replaced by the cookie', () => {
      const extract = extractorWith({ maxTokenLength: 100, tokenFrom: { header: true, cookie: 'at' } });
      expect(extract({ authorization: `Bearer ${'x'.repeat(101)}`, cookie: 'at=small' })).toBeNull();
    });
  });
});

describe('headerOf', () => {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('reads the JSON object before the first dot, unverified', () => {
    expect(headerOf(`${part({ alg: 'HS256', kid: 'k1' })}.e30.sig`)).toEqual({ alg: 'HS256', kid: 'k1' });
  });

  it.each<[string, string]>([
    ['no dot at all, even when the rest would decode', `${part({})}x`],
    ['nothing before the first dot', `.${part({})}.sig`],
    ['a header that is not JSON', '!!!.e30.sig'],
    ['a header that is a string', `${part('at+jwt')}.e30.sig`],
    ['a header that is a number', `${part(42)}.e30.sig`],
    ['a header that is null', `${part(null)}.e30.sig`],
  ])('is null for %s', (_name, token) => {
    expect(headerOf(token)).toBeNull();
  });
});
