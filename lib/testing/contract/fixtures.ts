import { createHash, randomBytes } from 'node:crypto';
import type { SessionRecord, TokenRecord } from '../../interfaces/token-record.interface.js';
import type { NewSession, RenewalRequest, RotationRequest } from '../../storage/token-store.interface.js';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/**
 * The contract's "now": a whole second of the run's start. Stores take every
 * time as an argument, so cases move it forward (`T0 + HOUR`) instead of
 * waiting, and never put a row into the past of the wall clock.
 */
export const T0 = Math.floor(Date.now() / 1000) * 1000;

export type NewToken = Omit<TokenRecord, 'subjectVersion'>;

const run = randomBytes(4).toString('hex');
let counter = 0;

/** An id no other case (or run) uses: lowercase letters, digits and dots, under 64 characters. */
export function uid(tag: string): string {
  return `${tag}.${run}.${(++counter).toString(36)}`;
}

export const hashOf = (seed: string) => createHash('sha256').update(seed).digest('hex');

/** Sorted by jti, to compare sets of rows. */
export const byJti = <T extends { jti: string }>(rows: T[]) =>
  [...rows].sort((a, b) => (a.jti < b.jti ? -1 : a.jti > b.jti ? 1 : 0));

export interface TokenOptions {
  /** Access token lifetime, ms. Default an hour. */
  accessTtl?: number;
  /** Refresh token lifetime, ms. Default a day. */
  refreshTtl?: number;
  claims?: Record<string, unknown> | null;
  userAgent?: string | null;
  ip?: string | null;
}

export interface LoginOptions extends TokenOptions {
  at?: number;
  sessionId?: string;
  epoch?: number | null;
  maxSessions?: number;
}

/** A login as `TokenLogService.issue()` builds it: the session, its access and refresh rows. */
export interface Login {
  input: NewSession;
  session: SessionRecord;
  access: NewToken;
  refresh: NewToken;
  /** The refresh row's `tokenHash`. */
  hash: string;
}

export function tokenPair(
  subject: string,
  sessionId: string,
  at: number,
  parentJti: string | null,
  options: TokenOptions = {},
): [NewToken, NewToken] {
  const { accessTtl = HOUR, refreshTtl = DAY, claims = null, userAgent = null, ip = null } = options;
  const common = {
    subject,
    sessionId,
    issuedAt: at,
    revokedAt: null,
    revokeReason: null,
    userAgent,
    ip,
    claims,
    parentJti,
    spentAt: null,
  };
  const access: NewToken = {
    ...common,
    jti: uid('at'),
    tokenType: 'access',
    expiresAt: at + accessTtl,
    tokenHash: null,
  };
  const refreshJti = uid('rt');
  const refresh: NewToken = {
    ...common,
    jti: refreshJti,
    tokenType: 'refresh',
    expiresAt: at + refreshTtl,
    tokenHash: hashOf(refreshJti),
  };
  return [access, refresh];
}

export function login(subject: string, options: LoginOptions = {}): Login {
  const { at = T0, sessionId = uid('sid'), epoch = null, maxSessions = 100 } = options;
  const [access, refresh] = tokenPair(subject, sessionId, at, null, options);
  const session: SessionRecord = {
    sessionId,
    subject,
    createdAt: at,
    lastSeenAt: at,
    expiresAt: refresh.expiresAt,
    revokedAt: null,
    revokeReason: null,
    userAgent: options.userAgent ?? null,
    ip: options.ip ?? null,
  };
  return {
    input: { session, tokens: [access, refresh], epoch, maxSessions },
    session,
    access,
    refresh,
    hash: refresh.tokenHash as string,
  };
}

/** A rotation request that records the pairs its `next` builds (the last is what a winner wrote). */
export interface Rotation {
  request: RotationRequest;
  built: Array<[NewToken, NewToken]>;
  /** What `next` was given, last call. */
  given: { presented: TokenRecord; session: SessionRecord } | null;
}

export function rotation(
  hash: string,
  now: number,
  options: Partial<Omit<RotationRequest, 'tokenHash' | 'now' | 'next'>> & TokenOptions = {},
): Rotation {
  const out: Rotation = {
    built: [],
    given: null,
    request: {
      tokenHash: hash,
      now,
      createdAfter: options.createdAfter ?? null,
      seenAfter: options.seenAfter ?? null,
      userAgent: options.userAgent ?? null,
      ip: options.ip ?? null,
      next: (presented, session) => {
        out.given = { presented, session };
        const pair = tokenPair(presented.subject, presented.sessionId, now, presented.jti, {
          ...options,
          claims: presented.claims,
        });
        out.built.push(pair);
        return pair;
      },
    },
  };
  return out;
}

/** Runs `count` calls at once, as concurrent requests would. */
export function atOnce<T>(count: number, call: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => call(i)));
}

/** A renewal request that records the rows its `next` builds (the last is what a winner wrote). */
export interface Renewal {
  request: RenewalRequest;
  built: NewToken[];
  /** What `next` was given, last call. */
  given: { presented: TokenRecord; session: SessionRecord } | null;
}

/**
 * Renews `presented` (a row of `login()` or an earlier renewal) at `now`:
 * tokens of the session expiring after `now` + `threshold` are not due. The
 * new row lives `accessTtl` (default an hour) and keeps the presented claims;
 * `gain: false` makes `next` answer null, as at a session's end.
 */
export function renewal(
  presented: { jti: string; sessionId: string },
  now: number,
  options: {
    threshold?: number;
    accessTtl?: number;
    gain?: boolean;
    userAgent?: string | null;
    ip?: string | null;
  } = {},
): Renewal {
  const { threshold = 5 * MINUTE, accessTtl = HOUR, gain = true } = options;
  const out: Renewal = {
    built: [],
    given: null,
    request: {
      jti: presented.jti,
      sessionId: presented.sessionId,
      now,
      dueAfter: now + threshold,
      userAgent: options.userAgent ?? null,
      ip: options.ip ?? null,
      next: (row, session) => {
        out.given = { presented: row, session };
        if (!gain) return null;
        const [access] = tokenPair(row.subject, row.sessionId, now, row.jti, { accessTtl, claims: row.claims });
        out.built.push(access);
        return access;
      },
    },
  };
  return out;
}
