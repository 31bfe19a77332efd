import 'reflect-metadata';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { TokenLogService } from 'nestjs-jwt-revocation';
import { eachDatabase } from '../support/databases.js';
import { decodePart, forge } from '../support/forge.js';
import { tokensOf } from '../support/guard-app.js';
import { bootProbeApp, collect, expectInvalid, probe } from '../support/probe-app.js';
import { appForSuite } from '../support/suite-app.js';
import { refreshRowOf } from '../support/token-rows.js';

eachDatabase('refresh tokens (service level)', (database) => {
  const db = database();

  describe('RFC 7009 revokeToken and RFC 7662 introspect', () => {
    const app = appForSuite(() => bootProbeApp(db.fresh(), { issuer: 'storage-tests' }));
    let tokens: TokenLogService;
    beforeAll(async () => {
      tokens = tokensOf(app);
    });

    it('introspect: an active access token and an active refresh token, whatever the hint', async () => {
      const pair = await tokens.issue('intro.zoe');
      const claims = decodePart(pair.accessToken, 1);
      const access = {
        active: true,
        token_type: 'access_token',
        sub: 'intro.zoe',
        jti: pair.jti,
        sid: pair.sessionId,
        iat: claims.iat,
        exp: claims.exp,
        iss: 'storage-tests',
      };
      expect(await tokens.introspect(pair.accessToken)).toEqual(access);
      expect(await tokens.introspect(pair.accessToken, 'refresh_token')).toEqual(access);
      const row = await refreshRowOf(app, pair.refreshToken);
      const refresh = {
        active: true,
        token_type: 'refresh_token',
        sub: 'intro.zoe',
        // No jti for a refresh token: its row id keys the successor and stays server-side.
        sid: pair.sessionId,
        iat: Math.floor(row.issuedAt / 1000),
        exp: Math.floor(row.expiresAt / 1000),
      };
      expect(await tokens.introspect(pair.refreshToken)).toEqual(refresh);
      expect(await tokens.introspect(pair.refreshToken, 'access_token')).toEqual(refresh);
      expect(Number.isInteger(refresh.iat) && Number.isInteger(refresh.exp)).toBe(true);
    });

    it('introspect: exactly { active: false } for spent, revoked, unknown and malformed tokens', async () => {
      const pair = await tokens.issue('intro.adam');
      const next = await tokens.refresh(pair.refreshToken);
      const other = await tokens.issue('intro.adam');
      await tokens.revokeSession(other.sessionId);
      const forged = forge(
        decodePart(pair.accessToken, 0),
        decodePart(pair.accessToken, 1),
        'not-the-secret-not-the-secret-not-the',
      );
      const inactive: unknown[] = [
        pair.refreshToken, // spent
        other.accessToken, // revoked session
        other.refreshToken,
        forged,
        'unknown-token',
        'a.b.c',
        '',
        'x'.repeat(20000),
        undefined,
        null,
        42,
        { token: next.refreshToken },
      ];
      for (const token of inactive) expect(await tokens.introspect(token)).toEqual({ active: false });
      expect(await tokens.introspect(next.refreshToken)).toMatchObject({ active: true });
      await tokens.revokeAllForSubject('intro.adam');
      expect(await tokens.introspect(next.accessToken)).toEqual({ active: false });
      expect(await tokens.introspect(next.refreshToken)).toEqual({ active: false });
    });

    it('revokeToken: a refresh token kills its whole session, even under the access_token hint', async () => {
      const { events, stop } = collect(app);
      try {
        const pair = await tokens.issue('rev.bea');
        await expect(tokens.revokeToken(pair.refreshToken, 'access_token')).resolves.toBeUndefined();
        expect(await probe(app, pair.accessToken)).toBe(401);
        expect(await tokens.introspect(pair.accessToken)).toEqual({ active: false });
        await expectInvalid(tokens.refresh(pair.refreshToken));
        expect(await tokens.findSession(pair.sessionId)).toMatchObject({ revokeReason: 'logout' });
        expect(events).toContainEqual({
          type: 'revoked',
          scope: 'session',
          sessionId: pair.sessionId,
          reason: 'logout',
        });
        // Already revoked: success again.
        await expect(tokens.revokeToken(pair.refreshToken, 'refresh_token')).resolves.toBeUndefined();
      } finally {
        stop();
      }
    });

    it('revokeToken: an access token is revoked, even under the refresh_token hint', async () => {
      const pair = await tokens.issue('rev.cal');
      await tokens.revokeToken(pair.accessToken, 'refresh_token');
      expect(await probe(app, pair.accessToken)).toBe(401);
      expect(await tokens.introspect(pair.accessToken)).toEqual({ active: false });
      expect(await tokens.findToken(pair.jti)).toMatchObject({ revokeReason: 'logout' });
      await expect(tokens.revokeToken(pair.accessToken)).resolves.toBeUndefined();
    });

    it('revokeToken: unknown, garbage and malformed input is a success that revokes nothing', async () => {
      const bystander = await tokens.issue('rev.dora');
      for (const token of ['unknown', '', 'a.b.c', 'x'.repeat(20000), undefined, null, 42, {}, ['x'], bystander.jti]) {
        await expect(tokens.revokeToken(token, 'bogus-hint')).resolves.toBeUndefined();
      }
      expect(await probe(app, bystander.accessToken)).toBe(200);
      expect(await tokens.introspect(bystander.refreshToken)).toMatchObject({ active: true });
    });

    it('revokeToken with owner: another subject’s token is left alone; its owner’s call revokes it', async () => {
      const pair = await tokens.issue('rev.eve');
      await tokens.revokeToken(pair.refreshToken, 'refresh_token', { subject: 'rev.mallory' });
      await tokens.revokeToken(pair.accessToken, 'access_token', { subject: 'rev.mallory' });
      await tokens.revokeToken(pair.refreshToken, undefined, { subject: 'rev.mallory' });
      expect(await probe(app, pair.accessToken)).toBe(200);
      expect(await tokens.introspect(pair.refreshToken)).toMatchObject({ active: true });
      expect((await tokens.findSession(pair.sessionId))?.revokedAt).toBeNull();
      expect((await tokens.findToken(pair.jti))?.revokedAt).toBeNull();

      await tokens.revokeToken(pair.refreshToken, undefined, { subject: 'rev.eve' });
      expect(await probe(app, pair.accessToken)).toBe(401);
      expect(await tokens.introspect(pair.refreshToken)).toEqual({ active: false });
    });
  });
});
