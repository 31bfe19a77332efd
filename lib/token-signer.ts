import { Injectable } from '@nestjs/common';
import { createHmac, sign } from 'node:crypto';
import { ACCESS_TOKEN_TYP } from './jwt-revocation.constants.js';
import { JwtRevocationConfig, type JwtAlgorithm } from './jwt-revocation.options.js';

const HASH: Record<JwtAlgorithm, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512', RS256: 'sha256', ES256: 'sha256' };

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * Signs access tokens with node:crypto and the configured KeyObject. The
 * header is fixed per module, so it is encoded once.
 */
@Injectable()
export class TokenSigner {
  private readonly encodedHeader: string;

  constructor(private readonly config: JwtRevocationConfig) {
    const { algorithm, kid } = config.signing;
    this.encodedHeader = base64url(kid ? { alg: algorithm, typ: ACCESS_TOKEN_TYP, kid } : { alg: algorithm, typ: ACCESS_TOKEN_TYP });
  }

  sign(payload: Record<string, unknown>): string {
    const input = `${this.encodedHeader}.${base64url(payload)}`;
    return `${input}.${this.signature(input)}`;
  }

  private signature(input: string): string {
    const { algorithm, signKey } = this.config.signing;
    const hash = HASH[algorithm];
    if (algorithm.startsWith('HS')) return createHmac(hash, signKey).update(input).digest('base64url');
    // JWS wants ECDSA signatures as r||s (IEEE P1363), not DER.
    const key = algorithm === 'ES256' ? { key: signKey, dsaEncoding: 'ieee-p1363' as const } : signKey;
    return sign(hash, Buffer.from(input), key).toString('base64url');
  }
}
