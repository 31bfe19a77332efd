import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { BadRequestException, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { CurrentSubject, CurrentToken, Logout, RevocableJwtGuard, type VerifiedToken } from 'nestjs-jwt-revocation';
import { startGuardApp, tokensOf } from '../../support/guard-app.js';
import { bearer, expect401 } from '../../support/http.js';
import { TEST_SECRET } from '../../support/keys.js';
import { appForSuite } from '../../support/suite-app.js';
import { eachAdapter } from '../../support/test-app.js';

@Controller('h')
@UseGuards(RevocableJwtGuard)
class LogoutController {
  @Post('logout-throws')
  @Logout()
  throws(): void {
    throw new BadRequestException('handler failed');
  }

  @Post('logout-rejects')
  @Logout()
  async rejects(): Promise<void> {
    await Promise.resolve();
    throw new BadRequestException('handler failed later');
  }

  @Post('logout')
  @HttpCode(204)
  @Logout()
  logout(): void {}

  @Get('claims')
  claims(@CurrentToken('sid') sid: string, @CurrentSubject() sub: string, @CurrentToken() token: VerifiedToken) {
    return { sid, sub, jti: token.jti, ver: token.ver };
  }
}

eachAdapter('guard decorators', (adapter) => {
  describe('@Logout(), @CurrentToken() and @CurrentSubject()', () => {
    const running = appForSuite(() =>
      startGuardApp({ signing: { secret: TEST_SECRET } }, { adapter, controllers: [LogoutController] }),
    );

    it('@CurrentToken("sid") and @CurrentSubject() return the verified claims', async () => {
      const issued = await tokensOf(running).issue('claims-user');
      const res = await running.http.get('/h/claims').set(bearer(issued.accessToken)).expect(200);
      expect(res.body).toEqual({ sid: issued.sessionId, sub: 'claims-user', jti: issued.jti, ver: 0 });
    });

    it.each(['logout-throws', 'logout-rejects'])(
      'a @Logout() handler that fails (%s) revokes nothing',
      async (route) => {
        const issued = await tokensOf(running).issue('fail-user');
        const res = await running.http.post(`/h/${route}`).set(bearer(issued.accessToken));
        expect(res.status).toBe(400);
        await running.http.get('/h/claims').set(bearer(issued.accessToken)).expect(200);
        const session = await tokensOf(running).findSession(issued.sessionId);
        expect(session?.revokedAt).toBeNull();
        expect(await tokensOf(running).refresh(issued.refreshToken)).toMatchObject({ sessionId: issued.sessionId });
      },
    );

    it('a @Logout() handler that succeeds revokes the session (and only it)', async () => {
      const phone = await tokensOf(running).issue('ok-user');
      const laptop = await tokensOf(running).issue('ok-user');
      await running.http.post('/h/logout').set(bearer(phone.accessToken)).expect(204);
      expect401(await running.http.get('/h/claims').set(bearer(phone.accessToken)));
      const session = await tokensOf(running).findSession(phone.sessionId);
      expect(session?.revokedAt).toEqual(expect.any(Number));
      expect(session?.revokeReason).toBe('logout');
      await expect(tokensOf(running).refresh(phone.refreshToken)).rejects.toThrow('Invalid refresh token');
      await running.http.get('/h/claims').set(bearer(laptop.accessToken)).expect(200);
    });
  });
});
