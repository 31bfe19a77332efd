import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { ForbiddenException } from '@nestjs/common';
import { startGuardApp, tokensOf, WhoController } from '../../support/guard-app.js';
import { bearer, expect401 } from '../../support/http.js';
import { TEST_SECRET } from '../../support/keys.js';
import { testLogs } from '../../support/logs.js';
import { appForSuite } from '../../support/suite-app.js';
import { eachAdapter } from '../../support/test-app.js';

testLogs.expect(/^token check failed: (database is down|async failure): do not leak this$/);

eachAdapter('validateSubject', (adapter) => {
  describe('validateSubject hook', () => {
    const blocked = new Set(['blocked']);
    const asked: string[] = [];

    const validateSubject = async (subject: string): Promise<boolean> => {
      asked.push(subject);
      if (subject === 'boom') throw new Error('database is down: do not leak this');
      if (subject === 'boom-async') return Promise.reject(new Error('async failure: do not leak this'));
      if (subject === 'forbidden') throw new ForbiddenException('Account suspended');
      if (subject === 'truthy') return 'yes' as unknown as boolean;
      return !blocked.has(subject);
    };

    const running = appForSuite(() =>
      startGuardApp(
        { signing: { secret: TEST_SECRET }, validateSubject, validateSubjectCacheTtl: 0 },
        { adapter, controllers: [WhoController] },
      ),
    );

    const tokenFor = async (subject: string) => (await tokensOf(running).issue(subject)).accessToken;

    it('a subject the hook refuses gets 401; others get 200', async () => {
      expect401(await running.http.get('/who').set(bearer(await tokenFor('blocked'))));
      const res = await running.http
        .get('/who')
        .set(bearer(await tokenFor('alice')))
        .expect(200);
      expect(res.body.sub).toBe('alice');
    });

    it('only a literal true allows: a truthy "yes" is 401', async () => {
      expect401(await running.http.get('/who').set(bearer(await tokenFor('truthy'))));
    });

    it('with validateSubjectCacheTtl 0 the hook is asked on every request', async () => {
      // Counts only this test's questions: `asked` is shared by the suite.
      const askedBefore = asked.length;
      const token = await tokenFor('carol');
      await running.http.get('/who').set(bearer(token)).expect(200);
      blocked.add('carol');
      try {
        expect401(await running.http.get('/who').set(bearer(token)));
      } finally {
        blocked.delete('carol');
      }
      await running.http.get('/who').set(bearer(token)).expect(200);
      expect(asked.slice(askedBefore)).toEqual(['carol', 'carol', 'carol']);
    });

    it.each(['boom', 'boom-async'])(
      'a hook that fails with a plain Error (%s) gives 503, never 500, and leaks nothing',
      async (subject) => {
        const res = await running.http.get('/who').set(bearer(await tokenFor(subject)));
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject({ statusCode: 503 });
        expect(JSON.stringify(res.body)).not.toMatch(/leak|database|async failure|stack|at /i);
        // What went wrong goes to the log instead.
        const reason = subject === 'boom' ? 'database is down: do not leak this' : 'async failure: do not leak this';
        expect(testLogs.take(/^token check failed/)).toEqual([
          { level: 'error', context: 'JwtRevocation', message: `token check failed: ${reason}` },
        ]);
      },
    );

    it('a hook that throws an HttpException keeps its status (403 here)', async () => {
      const res = await running.http.get('/who').set(bearer(await tokenFor('forbidden')));
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ statusCode: 403, message: 'Account suspended' });
    });
  });

  describe('validateSubject cache and revokeAllForSubject', () => {
    const deleted = new Set<string>();
    const asked: string[] = [];
    const validateSubject = (subject: string): boolean => {
      asked.push(subject);
      return !deleted.has(subject);
    };

    const running = appForSuite(() =>
      startGuardApp(
        { signing: { secret: TEST_SECRET }, validateSubject, validateSubjectCacheTtl: 30 },
        { adapter, controllers: [WhoController] },
      ),
    );

    it('after revokeAllForSubject, a new token of the subject makes the hook be asked again, not the cached yes', async () => {
      const tokens = tokensOf(running);
      const before = await tokens.issue('dave');
      const erin = await tokens.issue('erin');
      await running.http.get('/who').set(bearer(erin.accessToken)).expect(200);
      await running.http.get('/who').set(bearer(before.accessToken)).expect(200);
      await running.http.get('/who').set(bearer(before.accessToken)).expect(200);
      // The control: the yes is cached, so the hook was asked once, and a change of the app's answer goes unseen.
      deleted.add('dave');
      await running.http.get('/who').set(bearer(before.accessToken)).expect(200);
      expect(asked).toEqual(['erin', 'dave']);

      // The user is deleted: the app revokes everything of the subject, and must not be answered from the cache.
      await tokens.revokeAllForSubject('dave', 'subject_deleted');
      expect401(await running.http.get('/who').set(bearer(before.accessToken)));
      const after = await tokens.issue('dave');
      expect401(await running.http.get('/who').set(bearer(after.accessToken)));
      expect(asked).toEqual(['erin', 'dave', 'dave']);
      // Another subject's cached answer is left alone.
      await running.http.get('/who').set(bearer(erin.accessToken)).expect(200);
      expect(asked).toEqual(['erin', 'dave', 'dave']);
    });
  });
});
