import { Controller, Delete, Get, HttpCode, NotFoundException, Res } from '@nestjs/common';
import { CurrentToken, SessionCookies, TokenLogService, type VerifiedToken } from 'nestjs-jwt-revocation';
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

  @Delete()
  @HttpCode(204)
  async remove(@CurrentToken() token: VerifiedToken, @Res({ passthrough: true }) response: object): Promise<void> {
    // Tokens first: if deleting the row then failed, the account would be
    // logged out but intact, never deleted with live tokens.
    await this.tokens.revokeAllForSubject(token.sub, 'subject_deleted');
    await this.users.remove(token.sub);
    // A browser drops the cookies of the account it just deleted (harmless for an API client).
    this.cookies.clear(response);
  }
}
