import 'reflect-metadata';
import { expect } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { JwtRevocationModuleOptions } from 'nestjs-jwt-revocation';
import { eachDatabase, twoInstancesOn } from '../support/databases.js';
import { tokensOf } from '../support/guard-app.js';
import { bootProbeApp, probe } from '../support/probe-app.js';
import { within } from '../support/time.js';

/**
 * README: "`revokeAllForSubject` forgets the subject's answer at once". A deleted
 * or blocked user is revoked on one instance; every other instance must stop
 * answering for that subject from its cached `validateSubject` yes, or a token
 * issued after the revocation would pass there for `validateSubjectCacheTtl`.
 */
eachDatabase('validateSubject answers across instances', (database) => {
  const db = database();

  twoInstancesOn(db)(
    'revokeAllForSubject on one instance makes every instance ask validateSubject again, not answer from its cache',
    async () => {
      const deleted = new Set<string>();
      const asked = { a: [] as string[], b: [] as string[] };
      const options = (who: 'a' | 'b'): Partial<JwtRevocationModuleOptions> => ({
        validateSubject: (subject) => {
          asked[who].push(subject);
          return !deleted.has(subject);
        },
        // Long enough that only a forgotten answer explains a second question.
        validateSubjectCacheTtl: 300,
        syncInterval: 1,
      });
      const apps: INestApplication[] = [];
      try {
        const a = await bootProbeApp(db.fresh(), options('a'));
        apps.push(a);
        const b = await bootProbeApp(db.reopen(), options('b'));
        apps.push(b);

        const before = await tokensOf(a).issue('cache.frank');
        const other = await tokensOf(a).issue('cache.grace');
        expect([await probe(b, before.accessToken), await probe(b, other.accessToken)]).toEqual([200, 200]);
        // The control: B answers from its cache, so a change of the app's mind goes unseen there.
        deleted.add('cache.frank');
        expect(await probe(b, before.accessToken)).toBe(200);
        expect(asked.b).toEqual(['cache.frank', 'cache.grace']);

        await tokensOf(a).revokeAllForSubject('cache.frank', 'subject_deleted');
        const after = await tokensOf(a).issue('cache.frank');
        // Once B has heard of the revocation (its old token is refused there)...
        await within(
          5000,
          async () => probe(b, before.accessToken),
          (status) => status === 401,
        );
        // ...a token issued after it is judged by the app again, on B as on A.
        expect(await probe(b, after.accessToken)).toBe(401);
        expect(await probe(a, after.accessToken)).toBe(401);
        expect(asked.b).toEqual(['cache.frank', 'cache.grace', 'cache.frank']);
        // Another subject's cached answer is left alone.
        expect(await probe(b, other.accessToken)).toBe(200);
        expect(asked.b).toEqual(['cache.frank', 'cache.grace', 'cache.frank']);
      } finally {
        for (const app of apps.reverse()) await app.close();
      }
    },
  );
});
