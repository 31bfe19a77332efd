import 'reflect-metadata';
import { afterEach, expect, it } from '@jest/globals';
import { BadRequestException, ServiceUnavailableException, type INestApplication } from '@nestjs/common';
import {
  KeyRing,
  type JwtRevocationModuleOptions,
  type SecurityEvent,
  type SigningKeyOptions,
  type TokenLogService,
} from 'nestjs-jwt-revocation';
import { jwtRevocationEntitySet } from 'nestjs-jwt-revocation/testing';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { eachDatabase, type TestDatabase } from '../support/databases.js';
import { tokensOf } from '../support/guard-app.js';
import { bootProbeApp, expectInvalid, probe } from '../support/probe-app.js';
import { backdateSpend } from '../support/token-rows.js';

const PHONE = { ip: '203.0.113.10', userAgent: 'Mozilla/5.0 (iPhone) Safari/605.1' };
const LAPTOP = { ip: '198.51.100.20', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' };

/** What an event holds besides its number and time. */
const shape = ({ seq: _seq, at: _at, ...rest }: SecurityEvent) => rest;

/**
 * The audit trail through `TokenLogService`, on each database: every kind of
 * revocation the issue names (a revocation, logout everywhere, a password
 * change, refresh token reuse, the session cap, a key retired) is a durable
 * event with its subject, session, reason and client, listed a page at a
 * time; it is written in the revoking transaction, and purged after its
 * retention.
 */
eachDatabase('security events (audit trail)', (database) => {
  const db = database();
  let apps: INestApplication[] = [];
  const boot = async (options: Partial<JwtRevocationModuleOptions> = {}) => {
    const app = await bootProbeApp(db.fresh(), options);
    apps.push(app);
    return { app, tokens: tokensOf(app) as TokenLogService };
  };
  afterEach(async () => {
    for (const app of apps) await app.close();
    apps = [];
  });
  const someone = () => `audit.${randomBytes(4).toString('hex')}`;
  const all = async (tokens: TokenLogService, subject: string) =>
    (await tokens.securityEvents({ subject, limit: 100 })).events.map(shape);

  it('a device signed out, everything else signed out, a password change, logout everywhere: one event each, with the client', async () => {
    const { tokens } = await boot();
    const subject = someone();
    const [phone, laptop, tablet] = [
      await tokens.issue(subject, {}, PHONE),
      await tokens.issue(subject, {}, LAPTOP),
      await tokens.issue(subject),
    ];
    expect(await tokens.revokeSession(phone.sessionId, 'session_revoked', LAPTOP)).toBe(true);
    expect(await tokens.revokeOtherSessions(subject, laptop.sessionId, 'password_change', LAPTOP)).toBe(1);
    await tokens.revokeAllForSubject(subject, 'logout_all', PHONE);
    // Changes nothing: no event.
    expect(await tokens.revokeSession(phone.sessionId, 'admin', LAPTOP)).toBe(true);

    expect(await all(tokens, subject)).toEqual([
      { type: 'subject_revoked', subject, sessionId: null, target: null, reason: 'logout_all', ...PHONE },
      {
        type: 'session_revoked',
        subject,
        sessionId: tablet.sessionId,
        target: null,
        reason: 'password_change',
        ...LAPTOP,
      },
      {
        type: 'session_revoked',
        subject,
        sessionId: phone.sessionId,
        target: null,
        reason: 'session_revoked',
        ...LAPTOP,
      },
    ]);
  });

  it('refresh token reuse is recorded with the client that replayed the token; an admin revoking one token, by its jti', async () => {
    const { tokens } = await boot();
    const subject = someone();
    const first = await tokens.issue(subject, {}, PHONE);
    const second = await tokens.refresh(first.refreshToken, PHONE);
    await backdateSpend(apps[0], first.refreshToken, 6_000);
    await expectInvalid(tokens.refresh(first.refreshToken, LAPTOP));
    const other = await tokens.issue(subject);
    expect(await tokens.revoke(other.jti, 'admin')).toBe(true);

    expect(await all(tokens, subject)).toEqual([
      {
        type: 'token_revoked',
        subject,
        sessionId: other.sessionId,
        target: other.jti,
        reason: 'admin',
        ip: null,
        userAgent: null,
      },
      {
        type: 'session_revoked',
        subject,
        sessionId: second.sessionId,
        target: null,
        reason: 'refresh_reuse',
        ...LAPTOP,
      },
    ]);
  });

  it('a login past maxSessionsPerSubject records the eviction, with the new login as the client', async () => {
    const { tokens } = await boot({ maxSessionsPerSubject: 1 });
    const subject = someone();
    const old = await tokens.issue(subject, {}, PHONE);
    await tokens.issue(subject, {}, LAPTOP);
    expect(await all(tokens, subject)).toEqual([
      { type: 'session_revoked', subject, sessionId: old.sessionId, target: null, reason: 'session_limit', ...LAPTOP },
    ]);
  });

  it('a key retired is recorded (no subject), listed with every event; an unknown kid or the current key records nothing', async () => {
    const hmac = (kid: string): SigningKeyOptions => ({ kid, secret: `${kid}-secret-of-32-bytes-or-more-for-hs256` });
    const { app, tokens } = await boot({ signing: { keys: [hmac('k-new'), hmac('k-old')], current: 'k-old' } });
    const signedOld = await tokens.issue(someone());
    expect(await probe(app, signedOld.accessToken)).toBe(200);
    await expect(tokens.retireKey('k-old', LAPTOP)).rejects.toThrow(/signs new tokens/);
    app.get(KeyRing).use('k-new');
    expect(await tokens.retireKey('k-nope', LAPTOP)).toBe(false);
    expect(await tokens.retireKey('k-old', LAPTOP)).toBe(true);
    expect(await probe(app, signedOld.accessToken)).toBe(401);
    // Retired already: nothing more.
    expect(await tokens.retireKey('k-old', LAPTOP)).toBe(false);

    const { events } = await tokens.securityEvents({ limit: 100 });
    expect(events.filter((e) => e.type === 'key_retired').map(shape)).toEqual([
      { type: 'key_retired', subject: null, sessionId: null, target: 'k-old', reason: null, ...LAPTOP },
    ]);
  });

  it('pages newest first with an opaque cursor; a cursor or limit that is not ours is a 400', async () => {
    const { tokens } = await boot();
    const subject = someone();
    const sessions: string[] = [];
    for (let i = 0; i < 5; i++) sessions.push((await tokens.issue(subject)).sessionId);
    for (const sid of sessions) await tokens.revokeSession(sid, 'logout');
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await tokens.securityEvents({ subject, limit: 2, cursor });
      seen.push(...page.events.map((e) => e.sessionId as string));
      cursor = page.next ?? undefined;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual([...sessions].reverse());
    for (const bad of ['', 'x', Buffer.from('e-1').toString('base64url'), Buffer.from('e1.5').toString('base64url')])
      await expect(tokens.securityEvents({ subject, cursor: bad })).rejects.toBeInstanceOf(BadRequestException);
    for (const limit of [0, 101, 1.5])
      await expect(tokens.securityEvents({ subject, limit })).rejects.toBeInstanceOf(BadRequestException);
  });

  it('written in the revoking transaction: when the event cannot be written, the revocation is not either (503)', async () => {
    const { app, tokens } = await boot();
    const subject = someone();
    const pair = await tokens.issue(subject, {}, PHONE);
    const source = app.get(DataSource);
    const table = jwtRevocationEntitySet().securityEvent.options.tableName as string;
    await refuseInserts(db, source, table);
    try {
      await expect(tokens.revokeSession(pair.sessionId, 'logout', PHONE)).rejects.toBeInstanceOf(
        ServiceUnavailableException,
      );
    } finally {
      await allowInserts(db, source, table);
    }
    expect((await tokens.findSession(pair.sessionId))?.revokedAt).toBeNull();
    expect(await probe(app, pair.accessToken)).toBe(200);
    expect(await all(tokens, subject)).toEqual([]);
    // The same call once the table takes rows again: both written.
    expect(await tokens.revokeSession(pair.sessionId, 'logout', PHONE)).toBe(true);
    expect(await probe(app, pair.accessToken)).toBe(401);
    expect(await all(tokens, subject)).toHaveLength(1);
  });

  it('securityEventRetention: the sweep deletes events older than it, and keeps the rest', async () => {
    const { app, tokens } = await boot({ securityEventRetention: 3600, archiveInterval: 0 });
    const subject = someone();
    for (let i = 0; i < 3; i++) await tokens.revokeSession((await tokens.issue(subject)).sessionId, 'logout');
    const events = app.get(DataSource).getRepository(jwtRevocationEntitySet().securityEvent);
    const [newest, , oldest] = (await tokens.securityEvents({ subject })).events;
    // Two of them two hours old, as time would make them.
    await events.update({ subject }, { at: Date.now() - 2 * 3600_000 });
    await events.update({ seq: newest.seq }, { at: Date.now() });
    const result = await tokens.archiveExpired();
    expect(result.purgedSecurityEvents).toBe(2);
    expect((await tokens.securityEvents({ subject })).events.map((e) => e.seq)).toEqual([newest.seq]);
    expect(oldest.seq).toBeLessThan(newest.seq);
  });
});

/** A trigger that refuses every insert into the table, the way each database writes one. */
async function refuseInserts(db: TestDatabase, source: DataSource, table: string): Promise<void> {
  if (db.name === 'sqlite')
    await source.query(
      `CREATE TRIGGER audit_refuses BEFORE INSERT ON ${table} BEGIN SELECT RAISE(ABORT, 'refused'); END`,
    );
  else if (db.name === 'postgres') {
    await source.query(
      `CREATE OR REPLACE FUNCTION audit_refuses() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql`,
    );
    await source.query(
      `CREATE TRIGGER audit_refuses BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION audit_refuses()`,
    );
  } else
    await source.query(
      `CREATE TRIGGER audit_refuses BEFORE INSERT ON ${table} FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused'`,
    );
}

async function allowInserts(db: TestDatabase, source: DataSource, table: string): Promise<void> {
  await source.query(db.name === 'postgres' ? `DROP TRIGGER audit_refuses ON ${table}` : `DROP TRIGGER audit_refuses`);
}
