import { afterEach, describe, expect, it, jest } from '@jest/globals';
import {
  StaleStateException,
  type JwtRevocationModuleOptions,
  type SessionRecord,
  type TokenRecord,
  type VerifiedToken,
} from 'nestjs-jwt-revocation';
import { InMemoryTokenStore, JwtRevocationConfig, RevocationState } from 'nestjs-jwt-revocation/testing';
import { TEST_SECRET } from '../support/keys.js';
import { pollingSync } from '../support/sync.js';
import { legacyMigration } from '../support/legacy-tokens.js';

/**
 * How long the in-memory revocation state remembers, and what it loads and asks:
 * the sets must outlive the tokens they kill (accessTokenTtl 900 s plus
 * clockTolerance 5 s here), and no longer. The store is the library's in-memory one.
 */
const TTL = 900;
const TOLERANCE = 5;
const stateWith = (options: Partial<JwtRevocationModuleOptions> = {}, store = new InMemoryTokenStore()) =>
  new RevocationState(
    JwtRevocationConfig.from({
      signing: { secret: TEST_SECRET },
      accessTokenTtl: TTL,
      clockTolerance: TOLERANCE,
      ...options,
    }),
    store,
  );
const nowSeconds = () => Math.floor(Date.now() / 1000);
const token = (patch: Partial<VerifiedToken> = {}): VerifiedToken => ({
  sub: 'user-1',
  jti: 'jti-1',
  sid: 'sid-1',
  ver: 0,
  iat: nowSeconds(),
  exp: nowSeconds() + TTL,
  ...patch,
});

/** A session with one access token in the store, issued `at` (epoch ms), expiring a minute later. */
async function issued(store: InMemoryTokenStore, subject: string, sessionId: string, jti: string, at: number) {
  const session: SessionRecord = {
    sessionId,
    subject,
    createdAt: at,
    lastSeenAt: at,
    expiresAt: at + 60_000,
    revokedAt: null,
    revokeReason: null,
    userAgent: null,
    ip: null,
  };
  const access: Omit<TokenRecord, 'subjectVersion'> = {
    jti,
    subject,
    tokenType: 'access',
    sessionId,
    issuedAt: at,
    expiresAt: at + 60_000,
    revokedAt: null,
    revokeReason: null,
    userAgent: null,
    ip: null,
    claims: null,
    tokenHash: null,
    parentJti: null,
    spentAt: null,
  };
  await store.createSession({ session, tokens: [access], epoch: null, maxSessions: 100 });
}

afterEach(() => {
  jest.useRealTimers();
});

describe('RevocationState memory', () => {
  describe('how long a revocation is remembered', () => {
    it('a session: until a token it could hold has expired (ttl + tolerance), then pruned', () => {
      const state = stateWith();
      const at = nowSeconds() - 10_000;
      state.sessionRevoked('sid-1', at);
      expect(state.verdict(token())).toBe('revoked');
      state.prune(at + TTL + TOLERANCE);
      expect(state.stats().revokedSessions).toBe(1);
      state.prune(at + TTL + TOLERANCE + 120);
      expect(state.stats().revokedSessions).toBe(0);
    });

    it('a subject: kept at its last second, dropped the second after', () => {
      const state = stateWith();
      const at = nowSeconds() - 10_000;
      state.subjectRevoked('user-1', 1, at);
      expect(state.verdict(token({ ver: 0 }))).toBe('revoked');
      expect(state.verdict(token({ ver: 1 }))).toBe('active');
      state.prune(at + TTL + TOLERANCE);
      expect(state.stats().subjects).toBe(1);
      state.prune(at + TTL + TOLERANCE + 1);
      expect(state.stats().subjects).toBe(0);
    });

    it('a migration window remembers as long as an old token lives, but not past the window', () => {
      const acceptUntil = Date.now() + 7 * 86_400_000;
      const state = stateWith({
        migration: legacyMigration({ acceptUntil: new Date(acceptUntil), maxTokenLifetime: 3600 }),
      });
      const at = nowSeconds();
      expect(state.rememberUntil(at)).toBe(at + 3600 + TOLERANCE);
      const late = Math.floor(acceptUntil / 1000) - 60;
      expect(state.rememberUntil(late)).toBe(Math.max(late + TTL, Math.floor(acceptUntil / 1000)) + TOLERANCE);
    });

    it('without a time given, now: prune() with no time drops what has passed', () => {
      const state = stateWith();
      state.sessionRevoked('sid-1');
      state.subjectRevoked('user-1', 1);
      state.tokenRevoked('jti-old', nowSeconds() - 600);
      expect(state.stats()).toMatchObject({ revokedSessions: 1, subjects: 1, revokedTokens: 1 });
      state.prune();
      expect(state.stats()).toMatchObject({ revokedSessions: 1, subjects: 1, revokedTokens: 0 });
      state.prune(nowSeconds() + TTL + TOLERANCE + 120);
      expect(state.stats()).toMatchObject({ revokedSessions: 0, subjects: 0 });
    });

    it('events from other instances: their time (ms) counts like a local revocation', () => {
      const state = stateWith();
      const at = (nowSeconds() - 10_000) * 1000;
      state.apply({ seq: 1, kind: 'session', key: 'sid-1', value: 0, at });
      state.apply({ seq: 2, kind: 'subject', key: 'user-1', value: 1, at });
      expect(state.stats()).toMatchObject({ revokedSessions: 1, subjects: 1 });
      state.prune(at / 1000 + TTL + TOLERANCE + 120);
      expect(state.stats()).toMatchObject({ revokedSessions: 0, subjects: 0 });
    });
  });

  describe('a subject revoked twice', () => {
    it('an older version arriving late does not lower the version', () => {
      const state = stateWith();
      const at = nowSeconds();
      state.subjectRevoked('user-1', 2, at);
      state.subjectRevoked('user-1', 1, at);
      expect(state.verdict(token({ ver: 1 }))).toBe('revoked');
      expect(state.verdict(token({ ver: 2 }))).toBe('active');
    });

    it('the same version again keeps the later time: it is not forgotten early', () => {
      const state = stateWith();
      const at = nowSeconds() - 10_000;
      state.subjectRevoked('user-1', 1, at + 1000);
      state.subjectRevoked('user-1', 1, at);
      state.prune(at + TTL + TOLERANCE + 1);
      expect(state.stats().subjects).toBe(1);
      state.subjectRevoked('user-1', 1, at + 2000);
      state.prune(at + 1000 + TTL + TOLERANCE + 1);
      expect(state.stats().subjects).toBe(1);
    });
  });

  describe('load', () => {
    it('reads revoked tokens, sessions and subjects, in seconds: each goes when its time is up', async () => {
      const store = new InMemoryTokenStore();
      const now = Date.now();
      await issued(store, 'user-1', 'sid-1', 'jti-1', now);
      await issued(store, 'user-2', 'sid-2', 'jti-2', now);
      await issued(store, 'user-3', 'sid-3', 'jti-3', now);
      await store.revokeToken('jti-1', 'logout', now);
      await store.revokeSession('sid-2', 'logout', now);
      await store.revokeSubject('user-3', 'logout_all', now);
      const state = stateWith({}, store);
      await state.load();
      expect(state.verdict(token({ sub: 'user-1', sid: 'sid-x', jti: 'jti-1' }))).toBe('revoked');
      expect(state.verdict(token({ sub: 'user-2', sid: 'sid-2', jti: 'jti-x' }))).toBe('revoked');
      expect(state.verdict(token({ sub: 'user-3', sid: 'sid-y', jti: 'jti-y', ver: 0 }))).toBe('revoked');
      // Revoking a session or a subject revokes its tokens' rows too: three revoked tokens.
      expect(state.stats()).toMatchObject({ revokedTokens: 3, subjects: 1, activeTokens: 0 });
      expect(state.stats().revokedSessions).toBeGreaterThanOrEqual(1);
      state.prune(Math.floor(now / 1000) + TTL + TOLERANCE + 120);
      expect(state.stats()).toMatchObject({ revokedTokens: 0, revokedSessions: 0, subjects: 0 });
    });

    it('reads the store in pages of LOAD_PAGE_SIZE rows, and keeps every row of every page', async () => {
      /** The in-memory store, asked for pages of LOAD_PAGE_SIZE, answering in pages of one row. */
      class OneRowPages extends InMemoryTokenStore {
        readonly asked: number[] = [];
        override loadRevocationPages(now: number, since: number, pageSize: number) {
          this.asked.push(pageSize);
          return super.loadRevocationPages(now, since, 1);
        }
        override loadActiveAccessTokenPages(now: number, pageSize: number) {
          this.asked.push(pageSize);
          return super.loadActiveAccessTokenPages(now, 1);
        }
      }
      const store = new OneRowPages();
      const now = Date.now();
      for (const n of [1, 2, 3, 4, 5, 6]) await issued(store, `user-${n}`, `sid-${n}`, `jti-${n}`, now);
      await store.revokeToken('jti-1', 'logout', now);
      await store.revokeToken('jti-2', 'logout', now);
      await store.revokeSession('sid-3', 'logout', now);
      await store.revokeSubject('user-4', 'logout_all', now);
      const state = stateWith({ mode: 'allowlist' }, store);
      await state.load();
      expect(store.asked).toEqual([RevocationState.LOAD_PAGE_SIZE, RevocationState.LOAD_PAGE_SIZE]);
      expect(state.stats()).toMatchObject({ revokedTokens: 4, revokedSessions: 2, subjects: 1, activeTokens: 2 });
      for (const n of [1, 2, 3, 4])
        expect(state.verdict(token({ sub: `user-${n}`, sid: `sid-${n}`, jti: `jti-${n}` }))).toBe('revoked');
      for (const n of [5, 6])
        expect(state.verdict(token({ sub: `user-${n}`, sid: `sid-${n}`, jti: `jti-${n}` }))).toBe('active');
    });

    it('a token revoked while the pages are read, behind them, is missed by the load and applied by the first catch-up', async () => {
      /** Revokes jti-1 once the load has read past it: its row is behind the pages, its event is not. */
      class RevokedMidLoad extends InMemoryTokenStore {
        override async *loadRevocationPages(now: number, since: number, pageSize: number) {
          let first = true;
          for await (const page of super.loadRevocationPages(now, since, 1)) {
            yield page;
            if (first) await this.revokeToken('jti-1', 'logout', Date.now());
            first = false;
          }
          void pageSize;
        }
      }
      const store = new RevokedMidLoad();
      const now = Date.now();
      for (const n of [1, 2, 3]) await issued(store, `user-${n}`, `sid-${n}`, `jti-${n}`, now);
      await store.revokeToken('jti-2', 'logout', now);
      await store.revokeToken('jti-3', 'logout', now);
      const config = JwtRevocationConfig.from({
        signing: { secret: TEST_SECRET },
        syncInterval: 300,
        maxStaleness: 600,
      });
      const state = new RevocationState(config, store);
      const sync = pollingSync(config, store, state);
      await sync.onModuleInit();
      try {
        const late = token({ sub: 'user-1', sid: 'sid-1', jti: 'jti-1' });
        expect(state.verdict(late)).toBe('active');
        await sync.catchUp();
        expect(state.verdict(late)).toBe('revoked');
      } finally {
        await sync.onModuleDestroy();
      }
    });

    it('allowlist mode also reads the active access tokens, which go when they expire; the denylist does not', async () => {
      const store = new InMemoryTokenStore();
      const now = Date.now();
      await issued(store, 'user-1', 'sid-1', 'jti-1', now);
      const denylist = stateWith({}, store);
      await denylist.load();
      expect(denylist.stats().activeTokens).toBe(0);
      const allowlist = stateWith({ mode: 'allowlist' }, store);
      await allowlist.load();
      expect(allowlist.verdict(token())).toBe('active');
      allowlist.prune(Math.floor(now / 1000) + 60 + 120);
      expect(allowlist.stats().activeTokens).toBe(0);
    });
  });

  describe('tokens issued and revoked', () => {
    it('the denylist keeps no active tokens', () => {
      const state = stateWith();
      state.tokenIssued('jti-1', nowSeconds() + TTL);
      expect(state.stats().activeTokens).toBe(0);
    });

    it('allowlist: a revoked token leaves the active set', () => {
      const state = stateWith({ mode: 'allowlist' });
      state.tokenIssued('jti-1', nowSeconds() + TTL);
      expect(state.verdict(token())).toBe('active');
      state.tokenRevoked('jti-1', nowSeconds() + TTL);
      expect(state.stats()).toMatchObject({ activeTokens: 0, revokedTokens: 1 });
      expect(state.verdict(token())).toBe('revoked');
    });
  });

  describe('allowlist look-ups', () => {
    it('concurrent look-ups of one jti share one: the cap counts it once', async () => {
      const store = new InMemoryTokenStore();
      await issued(store, 'user-1', 'sid-1', 'jti-1', Date.now());
      const state = stateWith({ mode: 'allowlist', allowlistLookupConcurrency: 1 }, store);
      const first = state.isActiveInStore('jti-1');
      const second = state.isActiveInStore('jti-1');
      expect(second).toBe(first);
      expect(() => state.isActiveInStore('jti-other')).toThrow('Token check is busy');
      await expect(first).resolves.toBe(true);
    });

    it('a confirmed token is remembered until it expires (seconds), then pruned', async () => {
      const store = new InMemoryTokenStore();
      const now = Date.now();
      await issued(store, 'user-1', 'sid-1', 'jti-1', now);
      const state = stateWith({ mode: 'allowlist' }, store);
      expect(state.verdict(token())).toBe('unknown');
      await expect(state.isActiveInStore('jti-1')).resolves.toBe(true);
      expect(state.verdict(token())).toBe('active');
      state.prune(Math.floor(now / 1000) + 60 + 120);
      expect(state.stats().activeTokens).toBe(0);
    });
  });

  describe('isRevoked, outside a request', () => {
    it('a stale state is neither yes nor no: StaleStateException', async () => {
      const state = stateWith();
      state.trustUntil(Date.now() - 1);
      await expect(state.isRevoked(token())).rejects.toThrow(StaleStateException);
    });

    it('the denylist answers from memory alone: a token the store never saw is not revoked', async () => {
      const state = stateWith();
      await expect(state.isRevoked(token())).resolves.toBe(false);
      state.tokenRevoked('jti-1', nowSeconds() + TTL);
      await expect(state.isRevoked(token())).resolves.toBe(true);
    });
  });

  describe('the trusted time and the prune timer', () => {
    it('the state is trusted up to and including the trusted time', () => {
      jest.useFakeTimers({ now: 1_800_000_000_000 });
      const state = stateWith();
      state.trustUntil(Date.now());
      expect(state.verdict(token())).toBe('active');
      jest.setSystemTime(Date.now() + 1);
      expect(state.verdict(token())).toBe('stale');
    });

    it('prunes every pruneInterval once the module starts, and no more once it stops', () => {
      jest.useFakeTimers({ now: 1_800_000_000_000 });
      const state = stateWith({ pruneInterval: 60 });
      state.onModuleInit();
      state.tokenRevoked('jti-1', nowSeconds() - 600);
      expect(state.stats().revokedTokens).toBe(1);
      jest.advanceTimersByTime(60_000);
      expect(state.stats().revokedTokens).toBe(0);
      state.onModuleDestroy();
      state.tokenRevoked('jti-2', nowSeconds() - 600);
      jest.advanceTimersByTime(600_000);
      expect(state.stats().revokedTokens).toBe(1);
    });
  });
});
