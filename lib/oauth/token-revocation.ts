import { Injectable } from '@nestjs/common';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import type { SecurityClient } from '../interfaces/security-event.interface.js';
import { TokenRevoker } from '../revocation/token-revoker.js';
import { PresentedTokens } from './presented-tokens.js';

/** RFC 7009 token revocation. */
@Injectable()
export class TokenRevocation {
  constructor(
    private readonly config: JwtRevocationConfig,
    private readonly presented: PresentedTokens,
    private readonly revoker: TokenRevoker,
  ) {}

  /** See `TokenLogService.revokeToken()`. */
  async revokeToken(
    token: unknown,
    hint?: unknown,
    owner?: { subject: string },
    client?: SecurityClient,
  ): Promise<void> {
    if (typeof token !== 'string' || token.length === 0 || token.length > this.config.maxTokenLength) return;
    const refreshFirst = hint !== 'access_token';
    for (const lookup of refreshFirst ? ['refresh', 'access'] : ['access', 'refresh']) {
      const found =
        lookup === 'refresh' ? await this.presented.refreshRow(token) : await this.presented.accessRow(token);
      if (!found) continue;
      if (owner && owner.subject !== found.subject) return;
      if (found.tokenType === 'refresh') await this.revoker.revokeSession(found.sessionId, 'logout', client);
      else await this.revoker.revoke(found.jti, 'logout', client);
      return;
    }
  }
}
