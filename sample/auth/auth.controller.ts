import {
  Body,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  Res,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { RateLimit } from './rate-limit.decorator.js';
import { AuthRateLimitGuard } from './rate-limit.guard.js';
import {
  clientOf,
  CurrentToken,
  Logout,
  LogoutAll,
  Public,
  SessionCookies,
  TokenLogService,
  type IssuedTokens,
  type VerifiedToken,
} from 'nestjs-jwt-revocation';
import { UsersService } from '../users/users.service.js';
import {
  credentials,
  loginCredentials,
  passwordChange,
  refreshByCookie,
  refreshRequest,
  pageQuery,
  wantsCookies,
} from './bodies.js';

interface RequestLike {
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
}

const tokenResponse = (tokens: IssuedTokens) => ({
  accessToken: tokens.accessToken,
  refreshToken: tokens.refreshToken,
  tokenType: 'Bearer',
  expiresIn: tokens.expiresIn,
});

/** A browser's answer: the tokens went into HttpOnly cookies, and stay out of the body, where a script could read them. */
const cookieResponse = (tokens: IssuedTokens) => ({ tokenType: 'cookie', expiresIn: tokens.expiresIn });

@Controller('auth')
export class AuthController {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokenLogService,
    private readonly cookies: SessionCookies,
  ) {}

  @Public()
  @UseGuards(AuthRateLimitGuard)
  @Post('register')
  async register(@Body() body: unknown) {
    const { username, password } = credentials(body);
    const user = await this.users.register(username, password);
    return { id: user.id, username: user.username };
  }

  @Public()
  @UseGuards(AuthRateLimitGuard)
  @Post('login')
  @HttpCode(200)
  async login(@Body() body: unknown, @Req() request: RequestLike, @Res({ passthrough: true }) response: object) {
    const { username, password } = loginCredentials(body);
    const inCookies = wantsCookies(body);
    // The epoch is read before the password hash: should the password change
    // (or the user log out everywhere) after this, issue() refuses, so a login
    // that checked the old password cannot outlive the change. Unknown names
    // make the same reads, so they take the same time.
    const id = await this.users.idOf(username);
    const epoch = await this.tokens.subjectEpoch(id ?? username);
    const user = await this.users.authenticate(username, password);
    if (!user || user.id !== id) throw new UnauthorizedException('Wrong username or password');
    const tokens = await this.tokens.issue(user.id, {}, { ...clientOf(request), epoch });
    if (!inCookies) return tokenResponse(tokens);
    this.cookies.set(response, tokens);
    return cookieResponse(tokens);
  }

  @Public()
  @UseGuards(AuthRateLimitGuard)
  @Post('refresh')
  @HttpCode(200)
  async refresh(@Body() body: unknown, @Req() request: RequestLike, @Res({ passthrough: true }) response: object) {
    // A browser names no token: its refresh token is in the refresh cookie, sent to this path only.
    const fromCookie = refreshByCookie(body) ? this.cookies.refreshTokenOf(request) : null;
    if (fromCookie === null) return tokenResponse(await this.tokens.refresh(refreshRequest(body), clientOf(request)));
    // A failed refresh leaves the cookies alone: the loser of a race between tabs must not clear what the winner set.
    const tokens = await this.tokens.refresh(fromCookie, clientOf(request));
    this.cookies.set(response, tokens);
    return cookieResponse(tokens);
  }

  @Post('logout')
  @HttpCode(204)
  @Logout()
  logout(): void {}

  @Post('logout-all')
  @HttpCode(204)
  @LogoutAll()
  logoutAll(): void {}

  /** "Sign out everywhere else": every session of the caller but this one. */
  @Post('logout-others')
  @HttpCode(204)
  async logoutOthers(@CurrentToken() token: VerifiedToken, @Req() request: RequestLike): Promise<void> {
    await this.tokens.revokeOtherSessions(token.sub, token.sid, 'logout_all', clientOf(request));
  }

  // A password check: without a limit, a stolen access token is an oracle (403 vs 204) for the password.
  @UseGuards(AuthRateLimitGuard)
  @RateLimit('auth', 'password')
  @Post('change-password')
  @HttpCode(204)
  async changePassword(
    @Body() body: unknown,
    @CurrentToken() token: VerifiedToken,
    @Req() request: RequestLike,
  ): Promise<void> {
    const { currentPassword, newPassword } = passwordChange(body);
    const user = await this.users.findById(token.sub);
    // 403, not 401: the access token is fine, the password is not.
    if (!user || !(await this.users.authenticate(user.username, currentPassword))) {
      throw new ForbiddenException('Current password is wrong');
    }
    await this.users.changePassword(user.id, newPassword);
    await this.tokens.revokeOtherSessions(user.id, token.sid, 'password_change', clientOf(request));
  }

  /** Newest first, a page at a time: `?limit=` (1 to 100, default 20) and `?cursor=` (the previous page's `next`). */
  @Get('sessions')
  async sessions(@CurrentToken() token: VerifiedToken, @Query() query: Record<string, unknown>) {
    const page = await this.tokens.listSessions(token.sub, pageQuery(query));
    return {
      sessions: page.sessions.map((s) => ({
        id: s.id,
        createdAt: s.createdAt.toISOString(),
        lastSeenAt: s.lastSeenAt.toISOString(),
        userAgent: s.userAgent,
        ip: s.ip,
        current: s.id === token.sid,
      })),
      next: page.next,
    };
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  async revokeSession(
    @Param('id') id: string,
    @CurrentToken() token: VerifiedToken,
    @Req() request: RequestLike,
  ): Promise<void> {
    const session = id.length <= 64 ? await this.tokens.findSession(id) : null;
    if (!session || session.subject !== token.sub) throw new NotFoundException('No such session');
    await this.tokens.revokeSession(id, 'session_revoked', clientOf(request));
  }
}
