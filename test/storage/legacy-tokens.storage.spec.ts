import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { CurrentToken, Logout, type JwtRevocationModuleOptions, type VerifiedToken } from 'nestjs-jwt-revocation';
import request from 'supertest';
import { eachDatabase, twoInstancesOn } from '../support/databases.js';
import { legacyMigration, legacyToken } from '../support/legacy-tokens.js';
import { bootModule, type ModuleApp } from '../support/module-app.js';
import { sleep, within } from '../support/time.js';

@Controller()
class AccountController {
  @Get('probe')
  probe(@CurrentToken() token: VerifiedToken) {
    return { sub: token.sub, jti: token.jti };
  }

  @Post('logout')
  @HttpCode(204)
  @Logout()
  logout(): void {}
}

async function status(m: ModuleApp, method: 'get' | 'post', path: string, token: string): Promise<number> {
  return (await request(m.app.getHttpServer())[method](path).set('Authorization', `Bearer ${token}`)).status;
}

const probe = (m: ModuleApp, token: string) => status(m, 'get', '/probe', token);

/**
 * Our tokens live a second, the old ones an hour: a revocation the state kept
 * only as long as our tokens need would be forgotten (in memory, or by the
 * next boot's load) while the old tokens it killed are still presented.
 */
const options = (): Partial<JwtRevocationModuleOptions> => ({
  migration: legacyMigration(),
  accessTokenTtl: 1,
  clockTolerance: 0,
  syncInterval: 1,
});

/** As if two minutes had passed for the in-memory state: what only our tokens needed is pruned. */
const forgetOurHorizon = (m: ModuleApp) => m.state.prune(Math.floor(Date.now() / 1000) + 120);

const boot = (database: Parameters<typeof bootModule>[0]) =>
  bootModule(database, options(), { controllers: [AccountController] });

eachDatabase('the app’s existing JWTs after adoption', (database) => {
  const db = database();

  describe('subject-wide revocations and @Logout()', () => {
    it('revokeAllForSubject(subject_deleted) kills every old token of the subject: in memory past our horizon, and after a restart', async () => {
      let m = await boot(db.fresh());
      try {
        const phone = legacyToken({ sub: 'deleted-user', device: 'phone' });
        const laptop = legacyToken({ sub: 'deleted-user', device: 'laptop' });
        const other = legacyToken({ sub: 'kept-user' });
        for (const token of [phone, laptop, other]) expect(await probe(m, token)).toBe(200);
        await m.tokens.revokeAllForSubject('deleted-user', 'subject_deleted');
        expect([await probe(m, phone), await probe(m, laptop), await probe(m, other)]).toEqual([401, 401, 200]);
        forgetOurHorizon(m);
        expect([await probe(m, phone), await probe(m, laptop)]).toEqual([401, 401]);
        // Past our tokens' horizon: only the old tokens' look-back brings the revocation back at boot.
        await sleep(1100);
        await m.close();
        m = await boot(db.reopen());
        expect([await probe(m, phone), await probe(m, laptop), await probe(m, other)]).toEqual([401, 401, 200]);
      } finally {
        await m.close();
      }
    });

    it('@Logout() with an old token kills it (not the user’s others), past our horizon and after a restart', async () => {
      let m = await boot(db.fresh());
      try {
        const phone = legacyToken({ sub: 'logout-user', device: 'phone' });
        const laptop = legacyToken({ sub: 'logout-user', device: 'laptop' });
        expect(await probe(m, phone)).toBe(200);
        expect(await status(m, 'post', '/logout', phone)).toBe(204);
        expect([await probe(m, phone), await probe(m, laptop)]).toEqual([401, 200]);
        forgetOurHorizon(m);
        expect(await probe(m, phone)).toBe(401);
        await sleep(1100);
        await m.close();
        m = await boot(db.reopen());
        expect([await probe(m, phone), await probe(m, laptop)]).toEqual([401, 200]);
      } finally {
        await m.close();
      }
    });

    it('a token issued by issue() after the subject was revoked works; the old ones stay dead', async () => {
      const m = await boot(db.fresh());
      try {
        const old = legacyToken({ sub: 'relogin-user' });
        await m.tokens.revokeAllForSubject('relogin-user', 'logout_all');
        const fresh = await m.tokens.issue('relogin-user');
        expect([await probe(m, old), await probe(m, fresh.accessToken)]).toEqual([401, 200]);
      } finally {
        await m.close();
      }
    });
  });

  describe('two instances on one database', () => {
    twoInstancesOn(db)(
      'a revocation of old tokens on one instance reaches the other, and the other remembers it past our horizon',
      async () => {
        const a = await boot(db.fresh());
        const b = await boot(db.reopen());
        try {
          const deleted = legacyToken({ sub: 'multi-deleted' });
          const phone = legacyToken({ sub: 'multi-logout', device: 'phone' });
          const laptop = legacyToken({ sub: 'multi-logout', device: 'laptop' });
          for (const token of [deleted, phone, laptop]) expect(await probe(b, token)).toBe(200);
          await a.tokens.revokeAllForSubject('multi-deleted', 'subject_deleted');
          expect(await status(a, 'post', '/logout', phone)).toBe(204);
          await within(
            3000,
            async () => [await probe(b, deleted), await probe(b, phone)].join(),
            (s) => s === '401,401',
          );
          forgetOurHorizon(b);
          expect([await probe(b, deleted), await probe(b, phone), await probe(b, laptop)]).toEqual([401, 401, 200]);
        } finally {
          await b.close();
          await a.close();
        }
      },
    );
  });
});
