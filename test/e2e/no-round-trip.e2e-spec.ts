import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import type { IssuedTokens } from 'nestjs-jwt-revocation';
import type { Logger as TypeOrmLogger } from 'typeorm';
import { eachDatabase } from '../support/databases.js';
import { tokensOf } from '../support/guard-app.js';
import { typeOrmLogs } from '../support/logs.js';
import { bootModule } from '../support/module-app.js';
import { bootProbeApp, probe } from '../support/probe-app.js';
import { appForSuite } from '../support/suite-app.js';
import { within } from '../support/time.js';

/**
 * README: "no database round trip on the request path". Every query the app's
 * data source runs goes through its TypeORM logger; this one writes each down.
 * The module's own timers are kept out of the count: the catch-up, the
 * last-seen flush and the archive sweep would not run before minutes.
 */
const QUIET = { syncInterval: 300, maxStaleness: 600, lastSeenFlushInterval: 300, archiveInterval: 0 };

/** Requests per token: enough that a per-request query could not hide in a cache warming up. */
const ROUNDS = 10;

function countingQueries(database: TypeOrmModuleOptions): { database: TypeOrmModuleOptions; queries: string[] } {
  const queries: string[] = [];
  const logger: TypeOrmLogger = { ...typeOrmLogs, logQuery: (query) => void queries.push(query) };
  return { database: { ...database, logger } as TypeOrmModuleOptions, queries };
}

eachDatabase('no database round trip per request', (database) => {
  describe('denylist mode (the default)', () => {
    const db = database();
    const { database: options, queries } = countingQueries(db.fresh());
    const app = appForSuite(() => bootProbeApp(options, QUIET));

    it('guarded requests with valid tokens and with revoked tokens (token, session, subject) issue no query', async () => {
      const tokens = tokensOf(app);
      const live: IssuedTokens[] = [];
      for (let i = 0; i < 3; i++) live.push(await tokens.issue(`rt.live-${i}`));
      const revokedToken = await tokens.issue('rt.token');
      await tokens.revoke(revokedToken.jti, 'admin');
      const revokedSession = await tokens.issue('rt.session');
      await tokens.revokeSession(revokedSession.sessionId);
      const revokedSubject = await tokens.issue('rt.subject');
      await tokens.revokeAllForSubject('rt.subject');
      // On PostgreSQL each revocation is published by NOTIFY after the call returned: let those three land first.
      const published = db.name === 'postgres' ? 3 : 0;
      await within(5000, () => queries.filter((query) => query.includes('pg_notify')).length === published);
      // The control: the counter sees the store's queries on this data source.
      expect(queries.length).toBeGreaterThan(0);

      queries.length = 0;
      const statuses: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        for (const pair of live) statuses.push(await probe(app, pair.accessToken));
        for (const pair of [revokedToken, revokedSession, revokedSubject])
          statuses.push(await probe(app, pair.accessToken));
      }
      expect(statuses).toEqual(Array.from({ length: ROUNDS }, () => [200, 200, 200, 401, 401, 401]).flat());
      expect(queries).toEqual([]);

      // And the counter still counts: a read through the service is seen.
      await tokens.findToken(live[0].jti);
      expect(queries.length).toBeGreaterThan(0);
    });
  });

  describe('allowlist mode', () => {
    const db = database();

    it('tokens this instance knows issue no query; one it has not seen costs one look-up, then none', async () => {
      const { database: options, queries } = countingQueries(db.fresh());
      const app = await bootProbeApp(options, { ...QUIET, mode: 'allowlist' });
      // Another instance on the same database: it issues a token this one has never seen.
      const other = await bootModule(db.reopen(), { ...QUIET, mode: 'allowlist' });
      try {
        const tokens = tokensOf(app);
        const own = [await tokens.issue('rt.own-1'), await tokens.issue('rt.own-2')];
        const revoked = await tokens.issue('rt.own-revoked');
        await tokens.revoke(revoked.jti, 'admin');
        const foreign = await other.tokens.issue('rt.foreign');
        const published = db.name === 'postgres' ? 1 : 0;
        await within(5000, () => queries.filter((query) => query.includes('pg_notify')).length === published);

        queries.length = 0;
        for (let round = 0; round < ROUNDS; round++) {
          for (const pair of own) expect(await probe(app, pair.accessToken)).toBe(200);
          expect(await probe(app, revoked.accessToken)).toBe(401);
        }
        expect(queries).toEqual([]);

        // Not seen here: one look-up in the log, and from then on it is known.
        for (let round = 0; round < ROUNDS; round++) expect(await probe(app, foreign.accessToken)).toBe(200);
        expect(queries).toHaveLength(1);
        expect(queries[0]).toMatch(/jwt_token_log/);
      } finally {
        await other.close();
        await app.close();
      }
    });
  });
});
