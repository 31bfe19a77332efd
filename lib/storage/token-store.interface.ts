import type { RevocationEvent } from '../interfaces/revocation-event.interface.js';
import type { RevokeReason } from '../interfaces/revoke-reason.type.js';
import type { SessionRecord, TokenRecord } from '../interfaces/token-record.interface.js';

/** What a new login writes: the session and its first access and refresh tokens. */
export interface NewSession {
  session: SessionRecord;
  /** Rows without `subjectVersion`: the store fills it in from the subject's state in the same transaction. */
  tokens: Omit<TokenRecord, 'subjectVersion'>[];
  /** The subject's epoch when the app checked the credentials; another epoch now means no session. Null: no check. */
  epoch: number | null;
  /**
   * Live sessions (unrevoked, expiring after `session.createdAt`) the subject
   * may hold with this one; the oldest beyond it are revoked (`session_limit`),
   * tokens and all, each with a session event in `evicted`.
   */
  maxSessions: number;
}

/** What a login wrote, or why it wrote nothing. */
export type CreatedSession =
  | { created: true; subjectVersion: number; evicted: RevocationEvent[] }
  /** A subject-wide revocation (logout everywhere, password change) came after the credentials were checked: nothing was written. */
  | { created: false };

/** What a refresh wrote, or what stopped it. */
export type RotationResult =
  | { outcome: 'rotated'; subjectVersion: number }
  /**
   * The token was spent already (reported before revoked or expired: a replay
   * is evidence): its successors (access and refresh, the rows whose
   * `parentJti` is its jti) decide between a retry and reuse.
   */
  | { outcome: 'spent'; presented: TokenRecord; successors: TokenRecord[]; session: SessionRecord | null }
  | { outcome: 'invalid' };

export interface RotationRequest {
  tokenHash: string;
  now: number;
  /** Builds the new pair in the presented token's session; the session row is given for lifetime caps. */
  next: (presented: TokenRecord, session: SessionRecord) => Omit<TokenRecord, 'subjectVersion'>[];
  /** The session must have been created after this (epoch ms): its absolute lifetime. */
  createdAfter: number | null;
  /** The session must have been seen after this (epoch ms): its idle timeout. */
  seenAfter: number | null;
  /**
   * A rotation writes these to the session row, with `lastSeenAt` = `now` and
   * `expiresAt` = the latest expiry of the new pair.
   */
  userAgent: string | null;
  ip: string | null;
}

/**
 * Sliding renewal: a new access token in the session of a verified one that
 * is close to its expiry (the guard asks, see `slidingRenewal`).
 */
export interface RenewalRequest {
  /** The presented access token's jti and session. */
  jti: string;
  sessionId: string;
  now: number;
  /**
   * Access tokens of the session expiring after this (epoch ms) are not due
   * for renewal: the newest such one, when there is one, is the answer, so
   * racers near the threshold all get one token and write one row.
   */
  dueAfter: number;
  /**
   * Builds the new access row (`parentJti` = the presented jti) from the
   * presented row and the session. Null when a new token would gain nothing
   * (its `exp` is capped at the session's end): nothing is written.
   */
  next: (presented: TokenRecord, session: SessionRecord) => Omit<TokenRecord, 'subjectVersion'> | null;
  /** A renewal writes these to the session row, with `lastSeenAt` moved forward to `now`. */
  userAgent: string | null;
  ip: string | null;
}

/** What a renewal gave, or why it gave nothing. */
export type RenewalResult =
  /** The session's token to hand out: written by this call (`written`) or by an earlier renewal. */
  | { outcome: 'renewed'; token: TokenRecord; written: boolean }
  /**
   * Nothing written: the presented token is unknown, revoked or not an
   * access token of that session, the session is revoked, the subject's
   * token version moved past the token's, or `next` gave null.
   */
  | { outcome: 'refused' };

function* pagesOf<T>(rows: T[], pageSize: number): Generator<T[]> {
  for (let at = 0; at < rows.length; at += pageSize) yield rows.slice(at, at + pageSize);
}

/** The durable revocation state an instance loads at boot. */
export interface RevocationSnapshot {
  /** Revoked access tokens unexpired at `now`, whenever revoked: [jti, expiresAt ms]. */
  tokens: Array<[string, number]>;
  /** Sessions revoked since `since`: [sessionId, revokedAt ms]. */
  sessions: Array<[string, number]>;
  /** Subjects that logged out everywhere (`revokeSubject`) since `since`, once each: [subject, current tokenVersion, latest revokedAt ms]. */
  subjects: Array<[string, number, number]>;
}

export interface RevokedToken {
  jti: string;
  subject: string;
  sessionId: string;
  tokenType: TokenRecord['tokenType'];
  expiresAt: number;
  /** False when the token was revoked already: nothing was written. */
  changed: boolean;
  /** The event other instances apply (a change to an access token only: refresh tokens are checked in the database). */
  event: RevocationEvent | null;
}

/** A revoked session (the row after the call); `event` is null when it was revoked already and nothing was written. */
export interface RevokedSession {
  session: SessionRecord;
  event: RevocationEvent | null;
}

/** A verified access token the log may not know (signed elsewhere with a key of the ring). */
export interface PresentedToken {
  subject: string;
  sessionId: string;
  jti: string;
  /** Epoch ms. */
  issuedAt: number;
  expiresAt: number;
}

/** A page of a subject's live sessions, newest first; `next` continues after the last one. */
export interface SessionPageQuery {
  limit: number;
  /** The last session of the previous page: its creation time and id. */
  after: { createdAt: number; sessionId: string } | null;
}

/** What one sweeper may do while it holds the cluster-wide sweep lock. */
export interface SweepBatches {
  /**
   * Moves up to `limit` rows that expired before `cutoff` (epoch ms) and that
   * no check needs any more from the log to the archive (with `archivedAt` =
   * `now`), in one transaction. A spent refresh row stays while its session is
   * live at `now` (unrevoked, expiring after it): reuse detection needs it.
   * Returns how many moved.
   */
  archive(cutoff: number, now: number, limit: number): Promise<number>;
  /** Deletes up to `limit` archive rows that expired before `before`, in one transaction. */
  purgeArchive(before: number, limit: number): Promise<number>;
  /** Deletes up to `limit` sessions whose every token expired before `cutoff` and that hold no live spent refresh row. */
  purgeSessions(cutoff: number, limit: number): Promise<number>;
  /** Deletes up to `limit` revocation events older than `before`: no instance needs them to catch up. */
  purgeEvents(before: number, limit: number): Promise<number>;
}

/** A question for `findHistory`: rows of the log and the archive together. */
export interface HistoryQuery {
  subject?: string;
  sessionId?: string;
  /** Tokens that were valid at this time (epoch ms): issued at or before it, expiring after it, not revoked at or before it. */
  validAt?: number;
  /** Most rows returned. */
  limit: number;
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
  abstract revokeToken(jti: string, reason: RevokeReason, now: number): Promise<RevokedToken | null>;
  /** Marks a session and all its tokens revoked (idempotent): one session event when it was live. Null when the session is unknown. */
  abstract revokeSession(sessionId: string, reason: RevokeReason, now: number): Promise<RevokedSession | null>;
  /**
   * Revokes the session of a token the log may not know, writing a revoked
   * session row for it (expiring with the token) when there is none, so every
   * instance (and the next boot) refuses it; a session the log knows is
   * revoked as `revokeSession` does. Null event: it was revoked already.
   */
  abstract revokePresented(token: PresentedToken, reason: RevokeReason, now: number): Promise<RevocationEvent | null>;
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
  ): Promise<{ version: number; event: RevocationEvent }>;
  /** Raises the subject's epoch (not its token version) and revokes every live session of it but one, tokens and all; one event per session it revoked. */
  abstract revokeOtherSessions(
    subject: string,
    keepSessionId: string,
    reason: RevokeReason,
    now: number,
  ): Promise<RevocationEvent[]>;
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
