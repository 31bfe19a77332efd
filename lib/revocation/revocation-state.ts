import {
  Injectable,
  Logger,
  ServiceUnavailableException,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { ExpiringSet } from './expiring-set.js';
import { JwtRevocationConfig } from '../config/jwt-revocation.config.js';
import { revocationLookBack } from '../config/migration-options.js';
import { TokenStore } from '../storage/token-store.interface.js';
import { StaleStateException } from '../errors/stale-state.exception.js';
import { stored } from '../storage/stored.js';
import { withStoreTimeout } from '../storage/store-timeout.js';
import type { RevocationEvent } from '../interfaces/revocation-event.interface.js';
import type { VerifiedToken } from '../interfaces/verified-token.interface.js';

/** 'unknown': allowlist mode, not seen here yet. 'stale': the state could not be confirmed within maxStaleness (failClosed). */
export type Verdict = 'active' | 'revoked' | 'unknown' | 'stale';

const nowSeconds = () => Math.floor(Date.now() / 1000);
/** The next page of a load, or null at its end. */
const nextPage = async <T>(pages: AsyncIterator<T>): Promise<T | null> => {
  const next = await pages.next();
  return next.done ? null : next.value;
};

/**
 * What this instance knows of revocations, in memory: the one place the guard
 * asks "is this token still good?". Loaded from the store before the app
 * accepts requests, updated by every revoke, pruned as tokens expire.
 *
 * The sets need only outlive the tokens they kill: the guard refuses any
 * token whose lifetime exceeds `accessTokenTtl`, so a session or subject
 * revoked at T can only hold tokens that expire before T + ttl + tolerance
 * (for the app's old tokens in a migration window, `maxTokenLifetime`, or
 * the window's end if sooner: see `rememberUntil`).
 */
@Injectable()
export class RevocationState implements OnModuleInit, OnModuleDestroy {
  /**
   * Rows per query of the boot load: few enough that a page's rows die in V8's
   * young generation (with 10 000, pages were promoted and piled up in the old
   * one until a full gc: about 70 MB more peak RSS at 1M rows), enough that
   * round trips cost little.
   */
  static readonly LOAD_PAGE_SIZE = 1000;
  private readonly logger = new Logger('JwtRevocation');
  private readonly revokedTokens = new ExpiringSet();
  private readonly revokedSessions = new ExpiringSet();
  /** subject -> [token version, forget after (epoch s)]. Few entries: subjects that logged out everywhere lately. */
  private readonly subjectVersions = new Map<string, [number, number]>();
  /** Allowlist mode: active jtis this instance has seen issued or confirmed. */
  private readonly activeTokens = new ExpiringSet();
  private readonly lookups = new Map<string, Promise<boolean>>();
  private pruneTimer?: NodeJS.Timeout;

  constructor(
    private readonly config: JwtRevocationConfig,
    private readonly store: TokenStore,
  ) {}

  /** Until when (epoch ms) the state may be trusted: set by RevocationSync after each catch-up. */
  private trustedUntil = Infinity;

  onModuleInit(): void {
    this.pruneTimer = setInterval(() => this.prune(), this.config.pruneInterval * 1000);
    this.pruneTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.pruneTimer);
  }

  /**
   * Until when (epoch s) a session or subject revoked at `revokedAt` must be
   * remembered: as long as a token it kills can be accepted. Ours live
   * `accessTokenTtl` at most; the app's old tokens `maxTokenLifetime`, and
   * only until the migration window closes.
   */
  rememberUntil(revokedAt: number): number {
    const { accessTokenTtl, clockTolerance, migration } = this.config;
    const own = revokedAt + accessTokenTtl;
    const legacy = migration ? Math.min(revokedAt + migration.maxTokenLifetime, migration.acceptUntil / 1000) : 0;
    return Math.max(own, legacy) + clockTolerance;
  }

  /**
   * Reads the durable state; a restarted instance forgets nothing. In pages
   * of `LOAD_PAGE_SIZE` rows, so a large state never has all its rows in
   * memory at once beside the sets they fill. A revocation committed while the
   * pages are read may be missed here: RevocationSync's first catch-up reads
   * its event (from before the load started).
   */
  async load(): Promise<void> {
    const now = Date.now();
    const since = now - revocationLookBack(this.config, now) * 1000;
    // Each page is let go of before the next is read, so its rows die young.
    const pages = this.store.loadRevocationPages(now, since, RevocationState.LOAD_PAGE_SIZE);
    for (let page = await nextPage(pages); page !== null; page = await nextPage(pages)) {
      for (const [jti, expiresAt] of page.tokens) this.revokedTokens.add(jti, expiresAt / 1000);
      for (const [sessionId, revokedAt] of page.sessions)
        this.revokedSessions.add(sessionId, this.rememberUntil(revokedAt / 1000));
      for (const [subject, version, revokedAt] of page.subjects)
        this.markSubject(subject, version, this.rememberUntil(revokedAt / 1000));
      page = null;
    }
    if (this.config.mode === 'allowlist') {
      const active = this.store.loadActiveAccessTokenPages(now, RevocationState.LOAD_PAGE_SIZE);
      for (let page = await nextPage(active); page !== null; page = await nextPage(active)) {
        for (const [jti, expiresAt] of page) this.activeTokens.add(jti, expiresAt / 1000);
        page = null;
      }
    }
    this.logger.log(
      `revocation state loaded: ${this.revokedTokens.size} tokens, ${this.revokedSessions.size} sessions, ${this.subjectVersions.size} subjects` +
        (this.config.mode === 'allowlist' ? `, ${this.activeTokens.size} active tokens` : ''),
    );
  }

  /** The hot path: memory only. 'unknown' happens in allowlist mode alone. */
  verdict(token: VerifiedToken): Verdict {
    if (Date.now() > this.trustedUntil && this.config.failClosed) return 'stale';
    if (this.revokedTokens.has(token.jti) || this.revokedSessions.has(token.sid)) return 'revoked';
    const subject = this.subjectVersions.get(token.sub);
    if (subject !== undefined && token.ver < subject[0]) return 'revoked';
    // An old token has no row in the log to vouch for it: it passes on the denylist's terms while the window is open.
    if (this.config.mode === 'allowlist' && !token.legacy && !this.activeTokens.has(token.jti)) return 'unknown';
    return 'active';
  }

  /**
   * Allowlist mode, on a jti this instance has not seen: one database look-up,
   * shared by concurrent requests for the same jti, with a cap on look-ups in
   * flight so a burst of unknown tokens cannot flood the database.
   */
  isActiveInStore(jti: string): Promise<boolean> {
    const pending = this.lookups.get(jti);
    if (pending) return pending;
    if (this.lookups.size >= this.config.allowlistLookupConcurrency) {
      throw new ServiceUnavailableException('Token check is busy, retry shortly');
    }
    // Bounded: a hung database is a 503 after storeTimeout, not a request that never ends.
    const lookup = withStoreTimeout(
      this.store.findActiveAccessToken(jti, Date.now()),
      this.config.storeTimeout,
      'allowlist look-up',
    )
      .then((expiresAt) => {
        if (expiresAt === null) return false;
        this.activeTokens.add(jti, expiresAt / 1000);
        return true;
      })
      .finally(() => this.lookups.delete(jti));
    this.lookups.set(jti, lookup);
    return lookup;
  }

  /**
   * The guard's question, asked outside a request: true when verified claims
   * belong to a revoked token, session or subject (or, in allowlist mode, a
   * jti not active in the log). A 503 when the state is too old to trust or
   * the look-up fails: neither yes nor no.
   */
  async isRevoked(claims: VerifiedToken): Promise<boolean> {
    const verdict = this.verdict(claims);
    if (verdict === 'stale') throw new StaleStateException();
    if (verdict === 'unknown') return !(await stored(this.isActiveInStore(claims.jti)));
    return verdict === 'revoked';
  }

  trustUntil(at: number): void {
    this.trustedUntil = at;
  }

  /** A revocation, from this instance or another: idempotent. */
  apply(event: RevocationEvent): void {
    if (event.kind === 'token') this.tokenRevoked(event.key, event.value / 1000);
    else if (event.kind === 'session') this.sessionRevoked(event.key, Math.floor(event.at / 1000));
    else this.subjectRevoked(event.key, event.value, Math.floor(event.at / 1000));
  }

  tokenIssued(jti: string, expiresAt: number): void {
    if (this.config.mode === 'allowlist') this.activeTokens.add(jti, expiresAt);
  }

  tokenRevoked(jti: string, expiresAt: number): void {
    this.revokedTokens.add(jti, expiresAt);
    this.activeTokens.delete(jti);
  }

  sessionRevoked(sessionId: string, revokedAt: number = nowSeconds()): void {
    this.revokedSessions.add(sessionId, this.rememberUntil(revokedAt));
  }

  subjectRevoked(subject: string, version: number, revokedAt: number = nowSeconds()): void {
    this.markSubject(subject, version, this.rememberUntil(revokedAt));
  }

  /** Counts, for health checks and benchmarks. */
  stats(): { revokedTokens: number; revokedSessions: number; subjects: number; activeTokens: number } {
    return {
      revokedTokens: this.revokedTokens.size,
      revokedSessions: this.revokedSessions.size,
      subjects: this.subjectVersions.size,
      activeTokens: this.activeTokens.size,
    };
  }

  prune(now: number = nowSeconds()): void {
    this.revokedTokens.prune(now);
    this.revokedSessions.prune(now);
    this.activeTokens.prune(now);
    for (const [subject, [, until]] of this.subjectVersions) if (until < now) this.subjectVersions.delete(subject);
  }

  private markSubject(subject: string, version: number, until: number): void {
    const known = this.subjectVersions.get(subject);
    if (known && known[0] >= version) {
      known[1] = Math.max(known[1], until);
      return;
    }
    this.subjectVersions.set(subject, [version, until]);
  }
}
