import type { RevocationEvent } from '../interfaces/revocation-event.interface.js';
import type { RevokeReason } from '../interfaces/revoke-reason.type.js';
import type { SecurityEvent } from '../interfaces/security-event.interface.js';
import type { SessionRecord, TokenRecord } from '../interfaces/token-record.interface.js';
import type {
  NewSession,
  CreatedSession,
  RotationResult,
  RotationRequest,
  RenewalRequest,
  RenewalResult,
  RevocationSnapshot,
  RevokedToken,
  RevokedSession,
  PresentedToken,
  SessionPageQuery,
  SweepBatches,
  HistoryQuery,
  EventClient,
  NewSecurityEvent,
  SecurityEventQuery,
} from './token-store.types.js';

export type * from './token-store.types.js';

function* pagesOf<T>(rows: T[], pageSize: number): Generator<T[]> {
  for (let at = 0; at < rows.length; at += pageSize) yield rows.slice(at, at + pageSize);
}

/**
 * The storage seam of the module. The default is `TypeOrmTokenStore`; an app
 * replaces it with the `store` extra of `forRoot` / `forRootAsync` (a class
 * extending this one, which Nest instantiates). Every
 * write is one transaction: a call either happens whole or not at all. Every
 * revoke writes its rows and its event(s) in that transaction, and returns the
 * events for this instance to apply and publish. A revoke never rewrites an
 * earlier one: a row revoked already keeps its first time and reason.
 *
 * The audit trail: a revoke that changes something also records a security
 * event per token, session or subject it revoked (with the `client` given),
 * in the same transaction. A store written before the trail existed still
 * compiles (the `client` argument is optional, `listSecurityEvents` and
 * `recordSecurityEvent` have refusing defaults); it keeps no trail, and the
 * module says so at bootstrap.
 *
 * Times are epoch ms, given by the caller (`now`), never read from a clock.
 * `tokenStoreContract` (`nestjs-jwt-revocation/testing`) is what a store must
 * do, as a test suite: a store proves itself by passing it.
 */
export abstract class TokenStore {
  /**
   * Writes a new session and its tokens while holding the subject's row, so
   * a login and a subject-wide revocation never interleave: refuses when the
   * epoch moved, evicts the oldest sessions past `maxSessions`. The tokens get
   * the subject's current token version, which `subjectVersion` returns.
   */
  abstract createSession(input: NewSession): Promise<CreatedSession>;
  /** The subject's epoch (0 for a subject never seen): read it before checking credentials. */
  abstract subjectEpoch(subject: string): Promise<number>;
  /**
   * Exchanges a refresh token for a new pair, atomically: of concurrent calls
   * with one token, one rotates and the others answer `spent`, with its pair.
   * `invalid` (writing nothing) for an unknown, revoked or expired (at or
   * before `now`) token, a revoked session, one created or last seen at or
   * before `createdAfter`/`seenAfter`, and a token issued under an older
   * token version of its subject.
   */
  abstract rotate(request: RotationRequest): Promise<RotationResult>;
  /**
   * A new access token in the presented one's session, in one transaction
   * that holds the session row (so it is ordered against a revoke of the
   * session or the subject): refused unless the presented row is a live
   * access token of that session under the subject's current token version.
   * When the session already holds an unrevoked access token expiring after
   * `dueAfter`, that row is the answer and nothing is written; otherwise the
   * row `next` builds is written under that version, and the session's
   * `lastSeenAt` (forward only), `expiresAt` (forward only), `userAgent` and
   * `ip` are updated.
   *
   * Not abstract, so a store written before renewal existed still compiles:
   * this default refuses every renewal, and the module refuses the
   * `slidingRenewal` option at bootstrap with a store that does not override it.
   */
  async renewAccess(_request: RenewalRequest): Promise<RenewalResult> {
    return { outcome: 'refused' };
  }
  /** A refresh token's row in the log by the hash of the token, spent or not. */
  abstract findRefreshToken(tokenHash: string): Promise<TokenRecord | null>;
  /** Marks one token revoked (idempotent). Null when the jti is unknown (not in the log). */
  abstract revokeToken(
    jti: string,
    reason: RevokeReason,
    now: number,
    client?: EventClient,
  ): Promise<RevokedToken | null>;
  /** Marks a session and all its tokens revoked (idempotent): one session event when it was live. Null when the session is unknown. */
  abstract revokeSession(
    sessionId: string,
    reason: RevokeReason,
    now: number,
    client?: EventClient,
  ): Promise<RevokedSession | null>;
  /**
   * Revokes the session of a token the log may not know, writing a revoked
   * session row for it (expiring with the token) when there is none, so every
   * instance (and the next boot) refuses it; a session the log knows is
   * revoked as `revokeSession` does. Null event: it was revoked already.
   */
  abstract revokePresented(
    token: PresentedToken,
    reason: RevokeReason,
    now: number,
    client?: EventClient,
  ): Promise<RevocationEvent | null>;
  /**
   * Raises the subject's token version and epoch by one (a subject never seen
   * starts at 0), marks its live sessions and unexpired tokens revoked, and
   * records one `subject` event with the new version. Concurrent calls each
   * count, and each returns a version of its own.
   */
  abstract revokeSubject(
    subject: string,
    reason: RevokeReason,
    now: number,
    client?: EventClient,
  ): Promise<{ version: number; event: RevocationEvent }>;
  /** Raises the subject's epoch (not its token version) and revokes every live session of it but one, tokens and all; one event per session it revoked. */
  abstract revokeOtherSessions(
    subject: string,
    keepSessionId: string,
    reason: RevokeReason,
    now: number,
    client?: EventClient,
  ): Promise<RevocationEvent[]>;
  /**
   * Security events, newest first (see `SecurityEventQuery`). This default
   * throws: a store that overrides it keeps the trail (its revokes record
   * their events, and `recordSecurityEvent` works).
   */
  async listSecurityEvents(_query: SecurityEventQuery): Promise<SecurityEvent[]> {
    throw new Error(`${this.constructor.name} keeps no security events: it does not override listSecurityEvents`);
  }
  /** Records an event no revoke writes (a key retired). This default throws, as `listSecurityEvents`'s. */
  async recordSecurityEvent(_event: NewSecurityEvent): Promise<void> {
    throw new Error(`${this.constructor.name} keeps no security events: it does not override recordSecurityEvent`);
  }
  /** Events whose `at` is after `since` (epoch ms, strictly), in sequence order (the order written, not `at`'s): an instance's catch-up. */
  abstract loadEvents(since: number): Promise<RevocationEvent[]>;
  /** What must be in memory at boot: revocations that can still matter at `now`. */
  abstract loadRevocations(now: number, since: number): Promise<RevocationSnapshot>;
  /**
   * The boot load, `loadRevocations` in pages of at most `pageSize` rows each
   * (all arrays of a page count), so the rows of a large state need not be in
   * memory at once. Together the pages hold every row `loadRevocations`
   * returns, each once; a row written while the pages are read may be missing
   * (the instance's catch-up reads its event). The default cuts the result of
   * `loadRevocations` into pages: a store that does not override it keeps
   * working, with every row in memory at once during the load.
   */
  async *loadRevocationPages(now: number, since: number, pageSize: number): AsyncGenerator<RevocationSnapshot> {
    const { tokens, sessions, subjects } = await this.loadRevocations(now, since);
    for (const page of pagesOf(tokens, pageSize)) yield { tokens: page, sessions: [], subjects: [] };
    for (const page of pagesOf(sessions, pageSize)) yield { tokens: [], sessions: page, subjects: [] };
    for (const page of pagesOf(subjects, pageSize)) yield { tokens: [], sessions: [], subjects: page };
  }
  /** Allowlist mode: active (unrevoked, unexpired) access tokens, [jti, expiresAt]. */
  abstract loadActiveAccessTokens(now: number): Promise<Array<[string, number]>>;
  /** Allowlist mode: `loadActiveAccessTokens` in pages of at most `pageSize` rows, as `loadRevocationPages` (the same default). */
  async *loadActiveAccessTokenPages(now: number, pageSize: number): AsyncGenerator<Array<[string, number]>> {
    yield* pagesOf(await this.loadActiveAccessTokens(now), pageSize);
  }
  /** Allowlist mode: one active access token's expiry, or null. */
  abstract findActiveAccessToken(jti: string, now: number): Promise<number | null>;
  /** A row of the log (not the archive), access or refresh, as written. */
  abstract findToken(jti: string): Promise<TokenRecord | null>;
  abstract findSession(sessionId: string): Promise<SessionRecord | null>;
  /**
   * Live sessions (unrevoked, expiring after `now`) of a subject, newest first
   * (creation time, then id, both descending), those after `page.after` in
   * that order, at most `page.limit`.
   */
  abstract listActiveSessions(subject: string, now: number, page: SessionPageQuery): Promise<SessionRecord[]>;
  /** Writes "last seen" times gathered in memory: sessionId -> epoch ms. Only ever moves a time forward; unknown sessions are skipped. */
  abstract touchSessions(lastSeen: Map<string, number>): Promise<void>;
  /**
   * Runs `work` while holding the sweep lock, one holder across every
   * instance on the database; resolves null at once, without calling `work`,
   * when another holds it. The lock is freed when `work` settles; its
   * rejection is passed on.
   */
  abstract sweep<T>(work: (batches: SweepBatches) => Promise<T>): Promise<T | null>;
  /** How many log rows (of either type, rows the archive keeps too) expired before `cutoff` (progress reports). */
  abstract countExpired(cutoff: number): Promise<number>;
  /**
   * Token rows from the log (`archivedAt` null) and the archive matching every
   * filter given, newest first by `issuedAt`, at most `query.limit`.
   */
  abstract findHistory(query: HistoryQuery): Promise<Array<TokenRecord & { archivedAt: number | null }>>;
}
