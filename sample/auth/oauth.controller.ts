import { Body, Controller, Headers, HttpCode, Inject, Post, UnauthorizedException, UseGuards } from '@nestjs/common';
import { Public, TokenLogService } from 'nestjs-jwt-revocation';
import { timingSafeEqual } from 'node:crypto';
import { RateLimit } from './rate-limit.decorator.js';
import { AuthRateLimitGuard } from './rate-limit.guard.js';

/** Client credentials for introspection, from INTROSPECTION_CLIENT_ID / INTROSPECTION_CLIENT_SECRET. */
export const INTROSPECTION_CLIENT = Symbol('INTROSPECTION_CLIENT');
export type IntrospectionClient = { id: string; secret: string } | null;

function field(body: unknown, name: string): unknown {
  return body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** RFC 7009 revocation and RFC 7662 introspection, form-encoded or JSON. */
@Controller('oauth')
export class OAuthController {
  constructor(
    private readonly tokens: TokenLogService,
    @Inject(INTROSPECTION_CLIENT) private readonly client: IntrospectionClient,
  ) {}

  /** 200 whatever the token: a client learns nothing from the answer. Public and a database write: throttled per client IP. */
  @Public()
  @UseGuards(AuthRateLimitGuard)
  @RateLimit('revoke')
  @Post('revoke')
  @HttpCode(200)
  async revoke(@Body() body: unknown): Promise<Record<string, never>> {
    await this.tokens.revokeToken(field(body, 'token'), field(body, 'token_type_hint'));
    return {};
  }

  @Public()
  @Post('introspect')
  @HttpCode(200)
  async introspect(@Body() body: unknown, @Headers('authorization') authorization: string | undefined) {
    if (!this.isClient(authorization)) throw new UnauthorizedException('Client authentication failed');
    return this.tokens.introspect(field(body, 'token'), field(body, 'token_type_hint'));
  }

  private isClient(authorization: string | undefined): boolean {
    if (!this.client || typeof authorization !== 'string' || !authorization.startsWith('Basic ')) return false;
    const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    // RFC 6749 2.3.1: both parts are form-encoded. Both are compared, always, so timing does not tell which was wrong.
    let id: string;
    let secret: string;
    try {
      id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
    } catch {
      return false;
    }
    return [sameText(id, this.client.id), sameText(secret, this.client.secret)].every(Boolean);
  }
}
