import { Injectable } from '@nestjs/common';
import type { TokenRecord } from '../interfaces/token-record.interface.js';
import { stored } from '../storage/stored.js';
import { TokenStore } from '../storage/token-store.interface.js';
import { TokenCodec } from '../tokens/token-codec.js';
import { hashRefreshToken } from '../tokens/token-input.js';

/** The log row of a token a client presents to an OAuth endpoint, as a refresh token or as an access token. */
@Injectable()
export class PresentedTokens {
  constructor(
    private readonly store: TokenStore,
    private readonly codec: TokenCodec,
  ) {}

  async refreshRow(token: string): Promise<TokenRecord | null> {
    // A JWT is never a refresh token; skip the database for it.
    if (token.includes('.') || token.length > 256) return null;
    return stored(this.store.findRefreshToken(hashRefreshToken(token)));
  }

  /** Only for a token signed by a live key of the ring: its jti is taken at the signature's word. */
  async accessRow(token: string): Promise<TokenRecord | null> {
    const decoded = this.codec.verifySignature(token);
    const jti = (decoded?.payload as { jti?: unknown } | null | undefined)?.jti;
    if (typeof jti !== 'string' || jti.length > 64) return null;
    const row = await stored(this.store.findToken(jti));
    return row && row.tokenType === 'access' ? row : null;
  }
}
