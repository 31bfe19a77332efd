import type { SweepBatches } from '../../storage/token-store.interface.js';
import type { ContractContext } from './context.js';
import { DAY, HOUR, MINUTE, T0, atOnce, login, rotation, uid, type Login, type LoginOptions } from './fixtures.js';

/**
 * sweep (the lock and its batches) and countExpired. Each case works in a
 * window of time of its own, later cases in earlier windows, so a cutoff
 * never reaches rows an earlier case left behind.
 */
export function sweepCases({ it, describe, expect, store, concurrency }: ContractContext): void {
  async function loggedIn(subject: string, options: LoginOptions): Promise<Login> {
    const l = login(subject, options);
    await store().createSession(l.input);
    return l;
  }

  /** Runs batches under the lock; the lock must be free. */
  async function swept<T>(work: (batches: SweepBatches) => Promise<T>): Promise<T> {
    const result = await store().sweep(work);
    expect(result).not.toBeNull();
    return result as T;
  }

  /** Calls one batch until it moves nothing, under one lock: how many it moved each time. */
  const drain = (step: (batches: SweepBatches) => Promise<number>) =>
    swept(async (batches) => {
      const counts: number[] = [];
      for (let i = 0; i < 10; i++) {
        counts.push(await step(batches));
        if (counts[counts.length - 1] === 0) break;
      }
      return counts;
    });

  describe('sweep', () => {
    it('runs the work holding the lock and resolves its result; a sweep meanwhile resolves null and runs nothing', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const first = store().sweep(async () => {
        entered();
        await gate;
        return 'first';
      });
      await inside;
      let ran = false;
      expect(await store().sweep(async () => (ran = true))).toBeNull();
      expect(ran).toBe(false);
      release();
      expect(await first).toBe('first');
      expect(await store().sweep(async () => 'again')).toBe('again');
    });

    it('rejects with the error of a work that fails, and frees the lock', async () => {
      const boom = new Error('boom');
      const failure = await store()
        .sweep(async () => {
          throw boom;
        })
        .then(
          () => null,
          (error: unknown) => error,
        );
      expect(failure).toBe(boom);
      expect(await store().sweep(async () => 'after')).toBe('after');
    });

    it('of concurrent sweeps, one runs and the others resolve null', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let nulls = 0;
      let running = 0;
      // Frees the runner once every other sweep has answered (or after a while, should two run at once).
      const fallback = setTimeout(() => release(), 2000);
      const results = await atOnce(concurrency, () =>
        store()
          .sweep(async () => {
            running++;
            await gate;
            return 'ran';
          })
          .then((result) => {
            if (result === null && ++nulls === concurrency - 1) release();
            return result;
          }),
      );
      clearTimeout(fallback);
      expect(running).toBe(1);
      expect(results.filter((r) => r === 'ran')).toHaveLength(1);
    });
  });

  describe('archive and countExpired', () => {
    it('moves rows that expired before the cutoff, at most limit per call, into the history with archivedAt', async () => {
      const w = T0 + 400 * DAY;
      const subject = uid('arc');
      const due = [
        await loggedIn(subject, { at: w }),
        await loggedIn(subject, { at: w }),
        await loggedIn(subject, { at: w }),
      ];
      const cutoff = w + 2 * HOUR;
      const boundary = await loggedIn(subject, { at: w, accessTtl: 2 * HOUR }); // expires at the cutoff: not before it
      expect(await store().countExpired(cutoff)).toBe(3);

      expect(await drain((batches) => batches.archive(cutoff, cutoff, 2))).toEqual([2, 1, 0]);

      const history = await store().findHistory({ subject, limit: 100 });
      for (const l of due) {
        expect(await store().findToken(l.access.jti)).toBeNull();
        expect(history.filter((row) => row.jti === l.access.jti)).toEqual([
          { ...l.access, subjectVersion: 0, archivedAt: cutoff },
        ]);
        expect(await store().findToken(l.refresh.jti)).not.toBeNull();
      }
      expect(await store().findToken(boundary.access.jti)).not.toBeNull();
      expect(await store().countExpired(cutoff)).toBe(0);
      expect(await store().countExpired(cutoff + 1)).toBe(1);
    });

    it('keeps spent refresh rows while their session lives, and moves them once it is revoked or expired at now', async () => {
      const w = T0 + 300 * DAY;
      const subject = uid('spent');
      const [a, b] = [await loggedIn(subject, { at: w }), await loggedIn(subject, { at: w })];
      for (const l of [a, b]) await store().rotate(rotation(l.hash, w + MINUTE, { refreshTtl: 3 * DAY }).request);
      const cutoff = w + 2 * DAY;
      // The old and new access rows and the spent refresh rows expired before the cutoff.
      expect(await store().countExpired(cutoff)).toBe(6);

      expect(await drain((batches) => batches.archive(cutoff, cutoff, 100))).toEqual([4, 0]);
      expect(await store().findToken(a.access.jti)).toBeNull();
      for (const l of [a, b]) expect(await store().findToken(l.refresh.jti)).toMatchObject({ spentAt: w + MINUTE });
      expect(await store().countExpired(cutoff)).toBe(2);

      await store().revokeSession(a.session.sessionId, 'logout', cutoff);
      expect(await swept((batches) => batches.archive(cutoff, cutoff, 100))).toBe(1);
      expect(await store().findToken(a.refresh.jti)).toBeNull();
      expect(await store().findToken(b.refresh.jti)).not.toBeNull();

      const later = w + 4 * DAY; // b's session (expiring with its new refresh token) is over by then
      expect(await swept((batches) => batches.archive(cutoff, later, 100))).toBe(1);
      expect(await store().findToken(b.refresh.jti)).toBeNull();
    });
  });

  describe('purges', () => {
    it('purgeArchive deletes archive rows that expired before `before`, at most limit per call', async () => {
      const w = T0 + 200 * DAY;
      const subject = uid('parc');
      for (let i = 0; i < 3; i++) await loggedIn(subject, { at: w });
      const kept = await loggedIn(subject, { at: w, accessTtl: 3 * HOUR });
      expect(await swept((batches) => batches.archive(w + 4 * HOUR, w + 4 * HOUR, 100))).toBe(4);

      expect(await drain((batches) => batches.purgeArchive(w + 2 * HOUR, 2))).toEqual([2, 1, 0]);
      const archived = (await store().findHistory({ subject, limit: 100 }))
        .filter((row) => row.archivedAt !== null)
        .map((row) => row.jti);
      expect(archived).toEqual([kept.access.jti]);
    });

    it('purgeSessions deletes sessions whose tokens all expired before the cutoff, at most limit per call', async () => {
      const w = T0 + 100 * DAY;
      const subject = uid('pses');
      const [a, b] = [await loggedIn(subject, { at: w }), await loggedIn(subject, { at: w })];
      const live = await loggedIn(subject, { at: w, refreshTtl: 5 * DAY });
      const cutoff = w + 2 * DAY;
      expect(await drain((batches) => batches.purgeSessions(cutoff, 1))).toEqual([1, 1, 0]);
      expect(await store().findSession(a.session.sessionId)).toBeNull();
      expect(await store().findSession(b.session.sessionId)).toBeNull();
      expect(await store().findSession(live.session.sessionId)).toEqual(live.session);
    });

    it('purgeEvents deletes events older than `before`, at most limit per call', async () => {
      const w = T0 + 50 * DAY;
      for (const i of [1, 2, 3]) await store().revokeSubject(uid('pevt'), 'subject_deleted', w + i);
      const { event: kept } = await store().revokeSubject(uid('pevt'), 'subject_deleted', w + 10);
      expect(await drain((batches) => batches.purgeEvents(w + 5, 2))).toEqual([2, 1, 0]);
      expect((await store().loadEvents(w)).filter((e) => e.at < w + DAY)).toEqual([kept]);
    });
  });
}
