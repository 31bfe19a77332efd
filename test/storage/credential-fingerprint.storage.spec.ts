import 'reflect-metadata';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import type { JwtRevocationModuleOptions, TokenLogService } from 'nestjs-jwt-revocation';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { eachDatabase } from '../support/databases.js';
import { decodePart } from '../support/forge.js';
import { tokensOf } from '../support/guard-app.js';
import { TEST_SECRET } from '../support/keys.js';
import { bootProbeApp, probe } from '../support/probe-app.js';
import { rowsOf } from '../support/token-rows.js';

/** The app's users and their secrets (a password hash, say): the test changes them behind the module's back. */
const secrets = new Map<string, string>();
const fingerprinted = (cacheTtl = 0): Partial<JwtRevocationModuleOptions> => ({
  credentialFingerprint: { secretOf: (subject) => secrets.get(subject) ?? null, cacheTtl },
});

const claimsOf = (token: string) => decodePart(token, 1) as { cfp?: string; sid: string; jti: string };
const OTHER_SECRET = 'another-signing-secret-of-32-bytes-at-least';

eachDatabase('credential fingerprint', (database) => {
  const db = database();
  let apps: INestApplication[] = [];
  const boot = async (options: Partial<JwtRevocationModuleOptions>, fresh = true) => {
    const app = await bootProbeApp(fresh ? db.fresh() : db.reopen(), options);
    apps.push(app);
    return { app, tokens: tokensOf(app) as TokenLogService };
  };
  afterEach(async () => {
    for (const app of apps) await app.close();
    apps = [];
  });
  const user = (secret = `scrypt$${randomBytes(8).toString('hex')}`) => {
    const subject = `fp.${randomBytes(4).toString('hex')}`;
    secrets.set(subject, secret);
    return subject;
  };

  it('every token of a session carries a fingerprint that is neither the secret nor stored beside it; it works while the secret stands', async () => {
    const { app, tokens } = await boot(fingerprinted());
    const subject = user('scrypt$the-stored-hash');
    const pair = await tokens.issue(subject, { plan: 'pro' });
    const { cfp } = claimsOf(pair.accessToken);
    expect(cfp).toMatch(/^[\w-]{22}$/);
    expect(pair.accessToken).not.toContain('the-stored-hash');
    expect(await probe(app, pair.accessToken)).toBe(200);
    const next = await tokens.refresh(pair.refreshToken);
    expect(claimsOf(next.accessToken)).toMatchObject({ cfp, plan: 'pro' });
    expect(await probe(app, next.accessToken)).toBe(200);
    // The log keeps the fingerprint with the session's claims, never the secret.
    for (const row of await rowsOf(app, pair.sessionId)) {
      expect(row.claims).toEqual({ plan: 'pro', cfp });
      expect(JSON.stringify(row)).not.toContain('the-stored-hash');
    }
    expect(await tokens.introspect(next.accessToken)).toMatchObject({ active: true });
  });

  it('a secret changed behind the app’s back: the guard refuses the session’s tokens, introspection calls them inactive, and refresh ends the session', async () => {
    const { app, tokens } = await boot(fingerprinted());
    const subject = user();
    const pair = await tokens.issue(subject);
    const other = await tokens.issue(user());
    secrets.set(subject, 'scrypt$changed-by-an-admin-tool');

    expect(await probe(app, pair.accessToken)).toBe(401);
    expect(await tokens.introspect(pair.accessToken)).toEqual({ active: false });
    expect(await tokens.introspect(pair.refreshToken)).toEqual({ active: false });
    await expect(tokens.refresh(pair.refreshToken)).rejects.toMatchObject({ status: 401 });
    expect(await tokens.findSession(pair.sessionId)).toMatchObject({ revokeReason: 'password_change' });
    // Another user's session is untouched; a new login with the new secret works.
    expect(await probe(app, other.accessToken)).toBe(200);
    const again = await tokens.issue(subject);
    expect(await probe(app, again.accessToken)).toBe(200);
  });

  it('a password changed directly in the database (SQL UPDATE) ends the sessions made with the old one', async () => {
    // The app's users table; secretOf reads the stored password hash from it, as an app's would.
    let source: DataSource | undefined;
    const hashOf = async (id: string): Promise<string | null> => {
      const row = await (source as DataSource)
        .createQueryBuilder()
        .select('u.password_hash', 'hash')
        .from('fp_user', 'u')
        .where('u.id = :id', { id })
        .getRawOne<{ hash: string }>();
      return row?.hash ?? null;
    };
    const { app, tokens } = await boot({ credentialFingerprint: { secretOf: hashOf, cacheTtl: 0 } });
    const dataSource = app.get(DataSource);
    source = dataSource;
    await dataSource.query('CREATE TABLE fp_user (id varchar(64) PRIMARY KEY, password_hash varchar(200) NOT NULL)');
    try {
      const users = dataSource.createQueryBuilder();
      await users
        .insert()
        .into('fp_user')
        .values({ id: 'fp.sql-user', password_hash: 'scrypt$ln=17$salt$hash-one' })
        .execute();
      const pair = await tokens.issue('fp.sql-user');
      expect(await probe(app, pair.accessToken)).toBe(200);

      // An admin's script, behind the app's back.
      await dataSource
        .createQueryBuilder()
        .update('fp_user')
        .set({ password_hash: 'scrypt$ln=17$salt$hash-two' })
        .where('id = :id', { id: 'fp.sql-user' })
        .execute();
      expect(await probe(app, pair.accessToken)).toBe(401);
      await expect(tokens.refresh(pair.refreshToken)).rejects.toMatchObject({ status: 401 });
      const again = await tokens.issue('fp.sql-user');
      expect(await probe(app, again.accessToken)).toBe(200);
    } finally {
      await dataSource.query('DROP TABLE fp_user');
    }
  });

  it('a subject the app no longer knows: its tokens are refused, its refresh fails, and issue() refuses with 401', async () => {
    const { app, tokens } = await boot(fingerprinted());
    const subject = user();
    const pair = await tokens.issue(subject);
    secrets.delete(subject);
    expect(await probe(app, pair.accessToken)).toBe(401);
    await expect(tokens.refresh(pair.refreshToken)).rejects.toMatchObject({ status: 401 });
    await expect(tokens.issue(subject)).rejects.toMatchObject({ status: 401 });
  });

  it('with cacheTtl, the guard sees a change within it; a logout everywhere forgets the cached answer at once', async () => {
    const { app, tokens } = await boot(fingerprinted(60));
    const subject = user();
    const first = await tokens.issue(subject);
    expect(await probe(app, first.accessToken)).toBe(200);
    secrets.set(subject, 'scrypt$changed');
    // Cached for a minute: the old answer stands on this instance ...
    expect(await probe(app, first.accessToken)).toBe(200);
    // ... until the subject's revocation drops it: the next token of the new secret is judged anew.
    await tokens.revokeAllForSubject(subject);
    const second = await tokens.issue(subject);
    expect(await probe(app, second.accessToken)).toBe(200);
    expect(await probe(app, first.accessToken)).toBe(401);
  });

  it('issue() refuses a custom claim named like the fingerprint', async () => {
    const { tokens } = await boot(fingerprinted());
    await expect(tokens.issue(user(), { cfp: 'forged' })).rejects.toThrow(/claim "cfp" is set by the module/);
  });

  it('a key rotation keeps sessions: a fingerprint made under the old key holds while that key is live', async () => {
    const keys = (ring: Array<{ kid: string; secret: string }>) => ({ signing: { keys: ring } });
    const one = await boot({ ...fingerprinted(), ...keys([{ kid: 'k1', secret: TEST_SECRET }]) });
    const subject = user();
    const pair = await one.tokens.issue(subject);
    await one.app.close();
    apps = [];
    const two = await boot(
      {
        ...fingerprinted(),
        ...keys([
          { kid: 'k2', secret: OTHER_SECRET },
          { kid: 'k1', secret: TEST_SECRET },
        ]),
      },
      false,
    );
    expect(await probe(two.app, pair.accessToken)).toBe(200);
    const next = await two.tokens.refresh(pair.refreshToken);
    expect(await probe(two.app, next.accessToken)).toBe(200);
  });

  it('turned on for a database with older sessions: their access tokens are refused, and their next refresh gives them a fingerprint', async () => {
    const before = await boot({});
    const subject = user();
    const pair = await before.tokens.issue(subject);
    expect(claimsOf(pair.accessToken).cfp).toBeUndefined();
    await before.app.close();
    apps = [];
    const after = await boot(fingerprinted(), false);
    expect(await probe(after.app, pair.accessToken)).toBe(401);
    const next = await after.tokens.refresh(pair.refreshToken);
    expect(claimsOf(next.accessToken).cfp).toMatch(/^[\w-]{22}$/);
    expect(await probe(after.app, next.accessToken)).toBe(200);
  });
});

describe('credential fingerprint options', () => {
  it.each<[string, unknown, RegExp]>([
    ['no secretOf', {}, /"credentialFingerprint.secretOf" must be a function/],
    [
      'a negative cacheTtl',
      { secretOf: () => 'x', cacheTtl: -1 },
      /"credentialFingerprint.cacheTtl" must be a non-negative/,
    ],
    ['an unknown key', { secretOf: () => 'x', ttl: 5 }, /unknown option "credentialFingerprint.ttl"/],
  ])('refuses %s at bootstrap, naming it', async (_name, option, message) => {
    await expect(
      bootProbeApp(
        { type: 'better-sqlite3', database: ':memory:', autoLoadEntities: true, synchronize: true },
        { credentialFingerprint: option as JwtRevocationModuleOptions['credentialFingerprint'] },
      ),
    ).rejects.toThrow(message);
  });
});
