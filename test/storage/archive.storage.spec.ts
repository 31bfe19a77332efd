import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { TokenLogService, type JwtRevocationModuleOptions } from 'nestjs-jwt-revocation';
import { JwtRevocationConfig } from 'nestjs-jwt-revocation/testing';
import { In, LessThan, type DataSource } from 'typeorm';
import { eachDatabase, type TestDatabase } from '../support/databases.js';
import { bootModule, entities } from '../support/module-app.js';

const HOUR = 3_600_000;

const boot = (database: TypeOrmModuleOptions, options: Partial<JwtRevocationModuleOptions> = {}) =>
  bootModule(database, options);

/** Moves rows into the past, as time would: archiving only cares about expires_at. */
async function expire(source: DataSource, jtis: string[], ago = HOUR): Promise<void> {
  await source
    .getRepository(entities.tokenLog)
    .update({ jti: In(jtis) }, { expiresAt: Date.now() - ago, issuedAt: Date.now() - ago - 1000 });
}

/** The jti of every row of the log and of the archive. */
async function jtis(source: DataSource): Promise<{ log: string[]; archive: string[] }> {
  const log = await source.getRepository(entities.tokenLog).find({ select: { jti: true } });
  const archive = await source.getRepository(entities.tokenArchive).find({ select: { jti: true } });
  return { log: log.map((r) => r.jti), archive: archive.map((r) => r.jti) };
}

/** Rows in the log, in the archive, and in both (every row compared, in memory: no IN list to outgrow). */
async function counts(source: DataSource) {
  const { log, archive } = await jtis(source);
  const inLog = new Set(log);
  return { log: log.length, archive: archive.length, both: archive.filter((jti) => inLog.has(jti)).length };
}

/** Each row of `expected` in exactly one of the two tables, and no other row: nothing lost, nothing duplicated. */
async function expectEachRowOnce(source: DataSource, expected: Set<string>): Promise<void> {
  const { log, archive } = await jtis(source);
  const seen = new Map<string, number>();
  for (const jti of [...log, ...archive]) seen.set(jti, (seen.get(jti) ?? 0) + 1);
  expect([...expected].filter((jti) => !seen.has(jti))).toEqual([]);
  expect([...seen.keys()].filter((jti) => !expected.has(jti))).toEqual([]);
  expect([...seen].filter(([, times]) => times > 1)).toEqual([]);
  expect(log.length + archive.length).toBe(expected.size);
}

eachDatabase('token archive', (database) => {
  let db: TestDatabase;
  let app: INestApplication;
  let tokens: TokenLogService;
  let source: DataSource;

  beforeAll(async () => {
    db = database();
    ({ app, tokens, source } = await boot(db.fresh()));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('moves expired rows in batches, keeps the live ones, and a second run moves nothing', async () => {
    const before = await counts(source);
    const issued = [];
    for (let i = 0; i < 7; i++) issued.push(await tokens.issue(`archive-user-${i}`));
    const live = await tokens.issue('archive-live');
    const rows = await source
      .getRepository(entities.tokenLog)
      .find({ where: { sessionId: In(issued.map((t) => t.sessionId)) } });
    expect(rows).toHaveLength(14);
    await expire(
      source,
      rows.map((r) => r.jti),
    );

    const result = await tokens.archiveExpired({ batchSize: 3 });
    expect(result).toMatchObject({ ran: true, archived: 14 });
    expect(result.batches).toBeGreaterThanOrEqual(5);
    const after = await counts(source);
    expect(after.log + after.archive).toBe(before.log + before.archive + 16);
    expect(after.both).toBe(0);
    expect(await tokens.findToken(live.jti)).not.toBeNull();
    const archived = await source.getRepository(entities.tokenArchive).findOneByOrFail({ jti: issued[0].jti });
    expect(archived.subject).toBe('archive-user-0');
    expect(archived.archivedAt).toBeGreaterThan(Date.now() - 60_000);

    expect(await tokens.archiveExpired({ batchSize: 3 })).toMatchObject({ ran: true, archived: 0 });
    expect(await counts(source)).toEqual(after);
  });

  it('keeps a spent refresh token while its session lives (reuse detection needs it), then moves it', async () => {
    const first = await tokens.issue('archive-refresher');
    await tokens.refresh(first.refreshToken);
    const spentRow = (
      await source
        .getRepository(entities.tokenLog)
        .find({ where: { sessionId: first.sessionId, tokenType: 'refresh' } })
    ).find((r) => r.spentAt !== null)!;
    expect(spentRow).toBeDefined();
    await expire(source, [spentRow.jti, first.jti]);
    await tokens.archiveExpired();
    expect(await tokens.findToken(spentRow.jti)).not.toBeNull();
    expect(await tokens.findToken(first.jti)).toBeNull();

    await tokens.revokeSession(first.sessionId, 'logout');
    await tokens.archiveExpired();
    expect(await tokens.findToken(spentRow.jti)).toBeNull();
  });

  it('never moves a token that is still accepted, whatever olderThan asks', async () => {
    const fresh = await tokens.issue('archive-fresh');
    await tokens.archiveExpired({ olderThan: new Date(Date.now() + 10 * HOUR) });
    expect(await tokens.findToken(fresh.jti)).not.toBeNull();
  });

  it('answers history across log and archive: by subject, by session, valid at a time', async () => {
    const old = await tokens.issue('archive-history');
    const current = await tokens.issue('archive-history');
    const oldRows = await source.getRepository(entities.tokenLog).find({ where: { sessionId: old.sessionId } });
    await expire(
      source,
      oldRows.map((r) => r.jti),
      2 * HOUR,
    );
    await tokens.archiveExpired();
    expect(await tokens.findToken(old.jti)).toBeNull();

    const all = await tokens.history({ subject: 'archive-history' });
    expect(all.map((r) => r.jti).sort()).toEqual(
      [
        ...oldRows.map((r) => r.jti),
        ...(await source.getRepository(entities.tokenLog).find({ where: { sessionId: current.sessionId } })).map(
          (r) => r.jti,
        ),
      ].sort(),
    );
    expect(all.find((r) => r.jti === old.jti)?.archivedAt).toEqual(expect.any(Number));
    expect(all.find((r) => r.jti === current.jti)?.archivedAt).toBeNull();

    const bySession = await tokens.history({ sessionId: old.sessionId });
    expect(bySession.map((r) => r.jti).sort()).toEqual(oldRows.map((r) => r.jti).sort());

    // Two hours ago and a half second: only the old session's tokens were valid.
    const then = await tokens.history({ subject: 'archive-history', validAt: new Date(Date.now() - 2 * HOUR - 500) });
    expect(then.map((r) => r.jti).sort()).toEqual(oldRows.map((r) => r.jti).sort());
    const now = await tokens.history({ subject: 'archive-history', validAt: new Date() });
    expect(now.map((r) => r.sessionId)).not.toContain(old.sessionId);
    expect(now.map((r) => r.sessionId)).toContain(current.sessionId);
    expect(() => tokens.history({})).toThrow(TypeError);
  });

  it('lets one sweeper at a time work: a second one does nothing while the first holds the lock', async () => {
    const second = await boot(db.reopen());
    try {
      const store = app.get((await import('nestjs-jwt-revocation')).TokenStore);
      const inner = await store.sweep(async () => second.tokens.archiveExpired());
      expect(inner).toMatchObject({ ran: false, archived: 0 });
      expect(await second.tokens.archiveExpired()).toMatchObject({ ran: true });
    } finally {
      await second.app.close();
    }
  });

  it('purges archive rows past archiveRetention', async () => {
    const retained = await boot(db.reopen(), { archiveRetention: 3600 });
    try {
      const t = await retained.tokens.issue('archive-retention');
      const rows = await retained.source.getRepository(entities.tokenLog).find({ where: { sessionId: t.sessionId } });
      await expire(
        retained.source,
        rows.map((r) => r.jti),
        3 * HOUR,
      );
      const result = await retained.tokens.archiveExpired();
      expect(result.archived).toBeGreaterThanOrEqual(2);
      expect(result.purgedArchive).toBeGreaterThanOrEqual(2);
      expect(
        await retained.source.getRepository(entities.tokenArchive).count({ where: { sessionId: t.sessionId } }),
      ).toBe(0);
      expect(
        await retained.source
          .getRepository(entities.tokenArchive)
          .count({ where: { expiresAt: LessThan(Date.now() - 3600_000) } }),
      ).toBe(0);
    } finally {
      await retained.app.close();
    }
  });

  it('purges revocation events older than accessTokenTtl plus margins, and keeps the newer ones', async () => {
    // README: events are purged by the archive sweep once older than accessTokenTtl plus margins.
    const { accessTokenTtl, clockTolerance, archiveSafetyMargin } = app.get(JwtRevocationConfig);
    const horizon = (accessTokenTtl + clockTolerance + archiveSafetyMargin) * 1000;
    const events = source.getRepository(entities.revocationEvent);
    const tag = randomBytes(4).toString('hex');
    const now = Date.now();
    const event = (key: string, at: number) => ({ kind: 'session' as const, key: `${key}-${tag}`, value: 0, at });
    await events.insert([
      event('long-gone', now - horizon - HOUR),
      event('just-past', now - horizon - 30_000),
      event('also-past', now - horizon - 60_000),
      event('just-inside', now - horizon + 30_000),
    ]);
    // A revocation made now writes its event the usual way.
    const live = await tokens.issue('archive-events');
    await tokens.revokeSession(live.sessionId, 'logout');

    // Batches of one: the purge drains every old event, not just a batch.
    expect(await tokens.archiveExpired({ batchSize: 1 })).toMatchObject({ ran: true });
    const left = (await events.find()).map((e) => e.key);
    for (const gone of ['long-gone', 'just-past', 'also-past']) expect(left).not.toContain(`${gone}-${tag}`);
    expect(left).toContain(`just-inside-${tag}`);
    expect(left).toContain(live.sessionId);
    expect(await events.count({ where: { at: LessThan(now - horizon) } })).toBe(0);
  });

  describe('crash safety', () => {
    const N = 40_000;
    let url: string;

    beforeAll(async () => {
      const options = db.reopen() as { type: string; url?: string; database?: string };
      url = options.type === 'better-sqlite3' ? `sqlite:${options.database}` : String(options.url);
      // A backlog of expired rows, seeded straight into the table.
      const repo = source.getRepository(entities.tokenLog);
      const past = Date.now() - HOUR;
      for (let i = 0; i < N; i += 1000) {
        const chunk = Array.from({ length: Math.min(1000, N - i) }, (_, j) => ({
          jti: `crash-${i + j}-${randomBytes(4).toString('hex')}`,
          subject: `crash-user-${(i + j) % 97}`,
          tokenType: 'access' as const,
          sessionId: `crash-session-${(i + j) % 500}`,
          subjectVersion: 0,
          issuedAt: past - 900_000,
          expiresAt: past,
          revokedAt: null,
          revokeReason: null,
          userAgent: null,
          ip: null,
          claims: null,
          tokenHash: null,
          parentJti: null,
          spentAt: null,
        }));
        await repo.insert(chunk);
      }
    });

    it('a sweeper killed with SIGKILL mid-sweep leaves every row in exactly one table, and a rerun finishes', async () => {
      const before = await counts(source);
      const { log, archive: archived } = await jtis(source);
      const everyRow = new Set([...log, ...archived]);
      expect(everyRow.size).toBe(before.log + before.archive);
      expect(before.log).toBeGreaterThanOrEqual(N);
      const cli = new URL('../../dist/esm/archive/archive.cli.js', import.meta.url).pathname;
      const child: ChildProcess = spawn(process.execPath, [cli, '--batch-size', '100'], {
        env: { ...process.env, DATABASE_URL: url },
        stdio: 'ignore',
      });
      const archive = source.getRepository(entities.tokenArchive);
      const start = await archive.count();
      try {
        // Kill it once it has moved some rows, well before it could finish.
        for (let i = 0; i < 600 && (await archive.count()) < start + 2_000; i++)
          await new Promise((r) => setTimeout(r, 50));
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      const middle = await counts(source);
      expect(child.signalCode).toBe('SIGKILL');
      expect(middle.archive).toBeGreaterThan(start);
      expect(middle.archive).toBeLessThan(start + N);
      expect(middle.log + middle.archive).toBe(before.log + before.archive);
      expect(middle.both).toBe(0);
      await expectEachRowOnce(source, everyRow);

      const rerun = spawnSync(process.execPath, [cli, '--batch-size', '2000'], {
        env: { ...process.env, DATABASE_URL: url },
        encoding: 'utf8',
      });
      expect(rerun.status).toBe(0);
      expect(rerun.stdout).toMatch(/archive: done in/);
      const after = await counts(source);
      expect(after.log + after.archive).toBe(before.log + before.archive);
      expect(after.both).toBe(0);
      await expectEachRowOnce(source, everyRow);
      expect(
        await source.getRepository(entities.tokenLog).count({ where: { expiresAt: LessThan(Date.now() - 120_000) } }),
      ).toBe(0);
    }, 120_000);

    it('--security-event-retention: the CLI deletes security events older than it, and keeps the rest', async () => {
      const events = source.getRepository(entities.securityEvent);
      const tag = randomBytes(4).toString('hex');
      const event = (subject: string, at: number) => ({
        at,
        type: 'session_revoked' as const,
        subject: `${subject}-${tag}`,
        sessionId: null,
        target: null,
        reason: 'logout' as const,
        ip: null,
        userAgent: null,
      });
      await events.insert([event('old', Date.now() - 2 * HOUR), event('recent', Date.now() - 60_000)]);
      const cli = new URL('../../dist/esm/archive/archive.cli.js', import.meta.url).pathname;
      const run = spawnSync(process.execPath, [cli, '--security-event-retention', '3600'], {
        env: { ...process.env, DATABASE_URL: url },
        encoding: 'utf8',
      });
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/[1-9]\d* security events purged/);
      const left = (await events.find()).map((e) => e.subject);
      expect(left).not.toContain(`old-${tag}`);
      expect(left).toContain(`recent-${tag}`);
    }, 60_000);
  });
});
