import { describe, expect, it } from '@jest/globals';
import { KeyRing, type JwtRevocationModuleOptions } from 'nestjs-jwt-revocation';
import { JwtRevocationConfig, TokenCodec } from 'nestjs-jwt-revocation/testing';
import { createHmac, sign as cryptoSign } from 'node:crypto';
import { b64, decodePart, forge } from '../support/forge.js';
import { keyPair, TEST_SECRET } from '../support/keys.js';

const ec = keyPair('ES256');
const rsa = keyPair('RS256');
const ed = keyPair('EdDSA');

function codecOf(signing: JwtRevocationModuleOptions['signing']): { codec: TokenCodec; ring: KeyRing } {
  const ring = new KeyRing(JwtRevocationConfig.from({ signing }));
  return { codec: new TokenCodec(ring), ring };
}

const claims = { sub: 'user-1', jti: 'jti-1', sid: 'sid-1', ver: 0, iat: 1_800_000_000, exp: 1_800_000_900 };
/** The three segments of a token. */
const partsOf = (token: string) => token.split('.') as [string, string, string];

describe('TokenCodec', () => {
  describe('sign', () => {
    it('HS256 without kid: header { alg, typ }, the payload as given, an HMAC-SHA256 over both', () => {
      const { codec } = codecOf({ secret: TEST_SECRET });
      const token = codec.sign(claims);
      expect(decodePart(token, 0)).toEqual({ alg: 'HS256', typ: 'at+jwt' });
      expect(decodePart(token, 1)).toEqual(claims);
      // The same bytes a hand-made HS256 token has.
      expect(token).toBe(forge({ alg: 'HS256', typ: 'at+jwt' }, claims, TEST_SECRET));
    });

    it('names the kid of the current key, and follows the ring when another key becomes current', () => {
      const { codec, ring } = codecOf({
        keys: [
          { kid: 'one', secret: TEST_SECRET },
          { kid: 'two', algorithm: 'ES256', privateKey: ec.privateKey },
        ],
      });
      expect(decodePart(codec.sign(claims), 0)).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: 'one' });
      ring.use('two');
      expect(decodePart(codec.sign(claims), 0)).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: 'two' });
    });

    it.each([
      ['HS384', 'sha384', 48],
      ['HS512', 'sha512', 64],
    ] as const)('%s signs with HMAC-%s over header and payload', (algorithm, hash, size) => {
      const secret = 'k'.repeat(size);
      const { codec } = codecOf({ secret, algorithm });
      const [header, payload, signature] = partsOf(codec.sign(claims));
      expect(signature).toBe(createHmac(hash, secret).update(`${header}.${payload}`).digest('base64url'));
    });

    it('ES256 signatures are r||s (64 bytes), as JWS wants, not DER', () => {
      const { codec } = codecOf({ algorithm: 'ES256', privateKey: ec.privateKey, kid: 'k' });
      const signature = Buffer.from(partsOf(codec.sign(claims))[2], 'base64url');
      expect(signature).toHaveLength(64);
    });

    it('RS256 signatures are RSASSA-PKCS1-v1_5 with SHA-256 by the private key', () => {
      const { codec } = codecOf({ algorithm: 'RS256', privateKey: rsa.privateKey, kid: 'k' });
      const [header, payload, signature] = partsOf(codec.sign(claims));
      expect(signature).toBe(
        cryptoSign('sha256', Buffer.from(`${header}.${payload}`), rsa.privateKey).toString('base64url'),
      );
    });

    it('EdDSA signatures are Ed25519 (RFC 8037) over header and payload, 64 bytes, the same bytes node:crypto gives', () => {
      const { codec } = codecOf({ algorithm: 'EdDSA', privateKey: ed.privateKey, kid: 'k' });
      const token = codec.sign(claims);
      const [header, payload, signature] = partsOf(token);
      expect(decodePart(token, 0)).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k' });
      expect(signature).toBe(
        cryptoSign(null, Buffer.from(`${header}.${payload}`), ed.privateKey).toString('base64url'),
      );
      expect(Buffer.from(signature, 'base64url')).toHaveLength(64);
    });
  });

  describe('verifySignature', () => {
    it.each<[string, JwtRevocationModuleOptions['signing']]>([
      ['HS256', { secret: TEST_SECRET }],
      ['HS384', { secret: 'x'.repeat(48), algorithm: 'HS384' }],
      ['HS512', { secret: 'x'.repeat(64), algorithm: 'HS512' }],
      ['ES256', { algorithm: 'ES256', privateKey: ec.privateKey, kid: 'k' }],
      ['RS256', { algorithm: 'RS256', privateKey: rsa.privateKey, kid: 'k' }],
      ['EdDSA', { algorithm: 'EdDSA', privateKey: ed.privateKey, kid: 'k' }],
    ])('%s: gives back the header and payload of a token it signed', (_name, signing) => {
      const { codec, ring } = codecOf(signing);
      const token = codec.sign(claims);
      expect(codec.verifySignature(token)).toEqual({
        header: decodePart(token, 0),
        payload: claims,
        key: ring.current,
      });
    });

    it('verifies a token of any live key, by its kid', () => {
      const { codec, ring } = codecOf({
        keys: [
          { kid: 'old', secret: TEST_SECRET },
          { kid: 'new', algorithm: 'RS256', privateKey: rsa.privateKey },
        ],
      });
      const old = codec.sign(claims);
      ring.use('new');
      const fresh = codec.sign(claims);
      expect(codec.verifySignature(old)?.header).toMatchObject({ kid: 'old' });
      expect(codec.verifySignature(fresh)?.header).toMatchObject({ kid: 'new' });
    });

    it('null once the key is retired', () => {
      const { codec, ring } = codecOf({
        keys: [
          { kid: 'new', secret: TEST_SECRET },
          { kid: 'old', secret: `${TEST_SECRET}-old` },
        ],
        current: 'old',
      });
      const token = codec.sign(claims);
      ring.use('new');
      expect(codec.verifySignature(token)).not.toBeNull();
      ring.retire('old');
      expect(codec.verifySignature(token)).toBeNull();
    });

    it('null for a changed payload, header or signature', () => {
      const { codec } = codecOf({ secret: TEST_SECRET });
      const [header, payload, signature] = partsOf(codec.sign(claims));
      expect(codec.verifySignature(`${header}.${b64({ ...claims, sub: 'someone-else' })}.${signature}`)).toBeNull();
      expect(codec.verifySignature(`${b64({ alg: 'HS256', typ: 'JWT' })}.${payload}.${signature}`)).toBeNull();
      const flipped = Buffer.from(signature, 'base64url');
      flipped[0] ^= 1;
      expect(codec.verifySignature(`${header}.${payload}.${flipped.toString('base64url')}`)).toBeNull();
      // A truncated signature: not even the length matches.
      expect(codec.verifySignature(`${header}.${payload}.${signature.slice(0, 20)}`)).toBeNull();
    });

    it.each<[string, JwtRevocationModuleOptions['signing']]>([
      ['HS256', { secret: TEST_SECRET }],
      ['ES256', { algorithm: 'ES256', privateKey: ec.privateKey, kid: 'k' }],
      ['EdDSA', { algorithm: 'EdDSA', privateKey: ed.privateKey, kid: 'k' }],
    ])('%s: null for a signature spelled with spare bits set in its last character (same bytes)', (_name, signing) => {
      const { codec } = codecOf(signing);
      const [header, payload, signature] = partsOf(codec.sign(claims));
      // 32 and 64 bytes end on a partial base64 group: its last character's low bits are spare, and Node's decoder ignores them.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const respelled = signature.slice(0, -1) + alphabet[alphabet.indexOf(signature.at(-1)!) ^ 1];
      expect(Buffer.from(respelled, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
      expect(codec.verifySignature(`${header}.${payload}.${signature}`)).not.toBeNull();
      expect(codec.verifySignature(`${header}.${payload}.${respelled}`)).toBeNull();
    });

    it('null for a token signed with another secret, or for another key than its kid names', () => {
      const { codec } = codecOf({
        keys: [
          { kid: 'a', secret: TEST_SECRET },
          { kid: 'b', secret: `${TEST_SECRET}-b` },
        ],
      });
      expect(
        codec.verifySignature(forge({ alg: 'HS256', typ: 'at+jwt', kid: 'a' }, claims, `${TEST_SECRET}-x`)),
      ).toBeNull();
      expect(codec.verifySignature(forge({ alg: 'HS256', typ: 'at+jwt', kid: 'b' }, claims, TEST_SECRET))).toBeNull();
      // The control: the right secret for the kid passes.
      expect(
        codec.verifySignature(forge({ alg: 'HS256', typ: 'at+jwt', kid: 'a' }, claims, TEST_SECRET)),
      ).not.toBeNull();
    });

    it('null for an unknown kid, an alg the key does not use, or alg none', () => {
      const { codec } = codecOf({ secret: TEST_SECRET });
      expect(codec.verifySignature(forge({ alg: 'HS256', typ: 'at+jwt', kid: 'x' }, claims, TEST_SECRET))).toBeNull();
      const hs384 = `${b64({ alg: 'HS384', typ: 'at+jwt' })}.${b64(claims)}`;
      expect(
        codec.verifySignature(`${hs384}.${createHmac('sha384', TEST_SECRET).update(hs384).digest('base64url')}`),
      ).toBeNull();
      expect(codec.verifySignature(forge({ alg: 'none', typ: 'at+jwt' }, claims, null))).toBeNull();
      expect(codec.verifySignature(`${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims)}.x`)).toBeNull();
    });

    it('null for an ES256 signature in DER, and for the all-zero signature', () => {
      const { codec } = codecOf({ algorithm: 'ES256', privateKey: ec.privateKey, kid: 'k' });
      const [header, payload] = partsOf(codec.sign(claims));
      const der = cryptoSign('sha256', Buffer.from(`${header}.${payload}`), {
        key: ec.privateKey,
        dsaEncoding: 'der',
      }).toString('base64url');
      expect(codec.verifySignature(`${header}.${payload}.${der}`)).toBeNull();
      expect(codec.verifySignature(`${header}.${payload}.${Buffer.alloc(64).toString('base64url')}`)).toBeNull();
    });

    it('null for anything that is not three base64url segments of JSON, without throwing', () => {
      const { codec } = codecOf({ secret: TEST_SECRET });
      const good = codec.sign(claims);
      const [header, payload, signature] = partsOf(good);
      const garbage: unknown[] = [
        '',
        'a.b',
        `${good}.extra`,
        `${header}..${signature}`,
        `${header}.${payload}.`,
        `${header}+.${payload}.${signature}`,
        `${header}=.${payload}.${signature}`,
        `${b64('not json')}.${payload}.${signature}`,
        forge('null', claims, TEST_SECRET),
        forge('"a string"', claims, TEST_SECRET),
        forge({ alg: 'HS256', typ: 'at+jwt' }, 'not json', TEST_SECRET, true),
        undefined,
        null,
        42,
        { token: good },
      ];
      for (const token of garbage) expect(codec.verifySignature(token as string)).toBeNull();
    });

    it('null for a segment with characters around it that base64url decoding would skip', () => {
      // Node's base64url decoder skips "!", "." or a space anywhere, and "=" at the end:
      // read leniently, one token would have many spellings, each with a valid signature.
      const { codec } = codecOf({ secret: TEST_SECRET });
      const good = codec.sign(claims);
      const [header, payload, signature] = partsOf(good);
      expect(Buffer.from(`!${signature}`, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
      for (const token of [
        `${good}=`,
        `${good}!`,
        `${header}.${payload}.!${signature}`,
        `${header}.${payload}.${signature.slice(0, 10)} ${signature.slice(10)}`,
      ])
        expect(codec.verifySignature(token)).toBeNull();
    });

    it('null for a token longer than 8192 characters, even one it signed', () => {
      const { codec } = codecOf({ secret: TEST_SECRET });
      const long = codec.sign({ ...claims, pad: 'x'.repeat(8200) });
      expect(long.length).toBeGreaterThan(8192);
      expect(codec.verifySignature(long)).toBeNull();
      // The longest it takes: exactly 8192 characters.
      // (base64url skips a length in four: a second field of 1 to 3 characters finds it.)
      let fits = '';
      for (let pad = 5000; fits.length !== 8192 && pad < 7000; pad++) {
        for (let more = 1; more <= 3 && fits.length !== 8192; more++)
          fits = codec.sign({ ...claims, pad: 'x'.repeat(pad), more: 'y'.repeat(more) });
      }
      expect(fits.length).toBe(8192);
      expect(codec.verifySignature(fits)).not.toBeNull();
    });
  });
});
