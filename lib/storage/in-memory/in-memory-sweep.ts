import type { SessionRecord, TokenRecord } from '../../interfaces/token-record.interface.js';
import type { SweepBatches } from '../token-store.types.js';
import type { InMemoryTables } from './in-memory-tables.js';

/** The sweep's batches on `InMemoryTokenStore`'s tables; each runs whole before it yields, as every call there. */
export function sweepBatches(db: InMemoryTables): SweepBatches {
  return {
    archive: async (cutoff, now, limit) => archiveBatch(db, cutoff, now, limit),
    purgeArchive: async (before, limit) => {
      const due = [...db.archive.values()].filter((r) => r.expiresAt < before).slice(0, limit);
      for (const row of due) db.archive.delete(row.jti);
      return due.length;
    },
    purgeSessions: async (cutoff, limit) => {
      // Every token of the session in the log expired before the cutoff too.
      const over = (s: SessionRecord) =>
        s.expiresAt < cutoff && db.tokensOf(s.sessionId).every((t) => t.expiresAt < cutoff);
      const due = [...db.sessions.values()].filter(over).slice(0, limit);
      for (const session of due) db.sessions.delete(session.sessionId);
      return due.length;
    },
    purgeEvents: async (before, limit) => {
      const due = new Set(db.events.filter((e) => e.at < before).slice(0, limit));
      db.events = db.events.filter((e) => !due.has(e));
      return due.size;
    },
    purgeSecurityEvents: async (before, limit) => {
      const due = new Set(db.securityEvents.filter((e) => e.at < before).slice(0, limit));
      db.securityEvents = db.securityEvents.filter((e) => !due.has(e));
      return due.size;
    },
  };
}

/** Moves up to `limit` rows that expired before `cutoff`, keeping the spent refresh rows of sessions live at `now`. */
function archiveBatch(db: InMemoryTables, cutoff: number, now: number, limit: number): number {
  const needed = (t: TokenRecord) => {
    const session = db.sessions.get(t.sessionId);
    return (
      t.tokenType === 'refresh' &&
      t.spentAt !== null &&
      session !== undefined &&
      session.revokedAt === null &&
      session.expiresAt > now
    );
  };
  const due = [...db.tokens.values()].filter((t) => t.expiresAt < cutoff && !needed(t));
  const batch = due.sort((a, b) => a.expiresAt - b.expiresAt).slice(0, limit);
  for (const row of batch) db.moveToArchive(row, Math.trunc(now));
  return batch.length;
}
