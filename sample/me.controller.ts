import { Controller, Delete, Get, HttpCode, NotFoundException, Query, Req, Res } from '@nestjs/common';
import { clientOf, CurrentToken, SessionCookies, TokenLogService, type VerifiedToken } from 'nestjs-jwt-revocation';
import { pageQuery } from './auth/bodies.js';
import { UsersService } from './users/users.service.js';

@Controller('me')
export class MeController {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokenLogService,
    private readonly cookies: SessionCookies,
  ) {}

  @Get()
  async me(@CurrentToken() token: VerifiedToken) {
    const user = await this.users.findById(token.sub);
    if (!user) throw new NotFoundException('No such user');
    return { id: user.id, username: user.username, sessionId: token.sid, jti: token.jti };
  }

  /**
   * "Recent security activity": the caller's audit trail, newest first, a
   * page at a time (`?limit=` 1 to 100, default 20, and `?cursor=`, as for
   * sessions). What happened, why, when, and from which client; for a
   * session, the device it was (its user agent and IP, while the log keeps
   * the session). A token's jti stays on the server.
   */
  @Get('security-events')
  async securityEvents(@CurrentToken() token: VerifiedToken, @Query() query: Record<string, unknown>) {
    const page = await this.tokens.securityEvents({ subject: token.sub, ...pageQuery(query) });
    const events = await Promise.all(
      page.events.map(async (e) => {
        const session = e.sessionId === null ? null : await this.tokens.findSession(e.sessionId);
        return {
          at: new Date(e.at).toISOString(),
          type: e.type,
          reason: e.reason,
          sessionId: e.sessionId,
          device: session && { userAgent: session.userAgent, ip: session.ip },
          ip: e.ip,
          userAgent: e.userAgent,
        };
      }),
    );
    return { events, next: page.next };
  }

  @Delete()
  @HttpCode(204)
  async remove(
    @CurrentToken() token: VerifiedToken,
    @Req() request: object,
    @Res({ passthrough: true }) response: object,
  ): Promise<void> {
    // Tokens first: if deleting the row then failed, the account would be
    // logged out but intact, never deleted with live tokens.
    await this.tokens.revokeAllForSubject(token.sub, 'subject_deleted', clientOf(request));
    await this.users.remove(token.sub);
    // A browser drops the cookies of the account it just deleted (harmless for an API client).
    this.cookies.clear(response);
  }
}
