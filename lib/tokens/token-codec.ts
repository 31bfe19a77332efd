import { Injectable } from '@nestjs/common';
import { createHmac, sign, timingSafeEqual, verify } from 'node:crypto';
import { ACCESS_TOKEN_TYP } from '../jwt-revocation.constants.js';
import type { JwtAlgorithm, ResolvedSigning } from '../config/signing-keys.js';
import { KeyRing } from './key-ring.js';

/** The digest node:crypto is given; null for EdDSA, which hashes inside the algorithm (RFC 8032). */
const HASH: Record<JwtAlgorithm, string | null> = {
  HS256: 'sha256',
  HS384: 'sha384',
  HS512: 'sha512',
  RS256: 'sha256',
  ES256: 'sha256',
  EdDSA: null,
};

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function parsePart(part: string): unknown {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

export interface DecodedToken {
  header: Record<string, unknown>;
  payload: unknown;
}

/** A decoded token and the key of the ring that checked its signature. */
export interface SignedToken extends DecodedToken {
  key: ResolvedSigning;
}

/**
 * Signs and verifies access tokens with node:crypto KeyObjects: the key
 * ring's current key signs; `verifySignature` serves the guard, the passport
 * strategy and the calls that take a token outside a request (RFC 7009
 * revocation, introspection).
 */
@Injectable()
export class TokenCodec {
  constructor(private readonly keys: KeyRing) {}

  sign(payload: Record<string, unknown>): string {
    const key = this.keys.current;
    const header = key.kid
      ? { alg: key.algorithm, typ: ACCESS_TOKEN_TYP, kid: key.kid }
      : { alg: key.algorithm, typ: ACCESS_TOKEN_TYP };
    const input = `${base64url(header)}.${base64url(payload)}`;
    return `${input}.${this.signature(key, input)}`;
  }

  /** The header and payload of a token signed by a live key of the ring, or null. Claims are not checked here. */
  verifySignature(token: string): SignedToken | null {
    if (typeof token !== 'string' || token.length > 8192) return null;
    const parts = token.split('.');
    if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]+$/.test(part))) return null;
    let header: unknown;
    let payload: unknown;
    try {
      header = parsePart(parts[0]);
      payload = parsePart(parts[1]);
    } catch {
      return null;
    }
    if (header === null || typeof header !== 'object') return null;
    const h = header as Record<string, unknown>;
    const key = this.keys.forHeader(h.kid, h.alg);
    if (!key) return null;
    const input = `${parts[0]}.${parts[1]}`;
    const signature = Buffer.from(parts[2], 'base64url');
    // One spelling per signature: the decoder ignores a last character's spare bits, so re-encode and compare.
    if (signature.toString('base64url') !== parts[2]) return null;
    return this.checkSignature(key, input, signature) ? { header: h, payload, key } : null;
  }

  private signature(key: ResolvedSigning, input: string): string {
    const hash = HASH[key.algorithm];
    if (key.algorithm.startsWith('HS')) return createHmac(hash!, key.signKey).update(input).digest('base64url');
    // JWS wants ECDSA signatures as r||s (IEEE P1363), not DER.
    const signKey = key.algorithm === 'ES256' ? { key: key.signKey, dsaEncoding: 'ieee-p1363' as const } : key.signKey;
    return sign(hash, Buffer.from(input), signKey).toString('base64url');
  }

  private checkSignature(key: ResolvedSigning, input: string, signature: Buffer): boolean {
    const hash = HASH[key.algorithm];
    if (key.algorithm.startsWith('HS')) {
      const expected = createHmac(hash!, key.verifyKey).update(input).digest();
      return expected.length === signature.length && timingSafeEqual(expected, signature);
    }
    const verifyKey =
      key.algorithm === 'ES256' ? { key: key.verifyKey, dsaEncoding: 'ieee-p1363' as const } : key.verifyKey;
    try {
      return verify(hash, Buffer.from(input), verifyKey, signature);
    } catch {
      return false;
    }
  }
}
