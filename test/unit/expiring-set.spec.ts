import { describe, expect, it } from '@jest/globals';
import { ExpiringSet } from 'nestjs-jwt-revocation/testing';

const T = 1_800_000_000;

describe('ExpiringSet', () => {
  it('remembers keys with their expiry and counts them', () => {
    const set = new ExpiringSet();
    set.add('a', T + 10);
    set.add('b', T + 500);
    expect(set.has('a')).toBe(true);
    expect(set.has('c')).toBe(false);
    expect(set.expiryOf('b')).toBe(T + 500);
    expect(set.size).toBe(2);
  });

  it('extends an expiry but never shortens it', () => {
    const set = new ExpiringSet();
    set.add('a', T + 100);
    set.add('a', T + 50);
    expect(set.expiryOf('a')).toBe(T + 100);
    set.add('a', T + 1000);
    expect(set.expiryOf('a')).toBe(T + 1000);
  });

  it('prunes only what expired, bucket by bucket, and keeps extended keys', () => {
    const set = new ExpiringSet();
    for (let i = 0; i < 100; i++) set.add(`old-${i}`, T + i);
    for (let i = 0; i < 100; i++) set.add(`new-${i}`, T + 3600 + i);
    set.add('moved', T + 5);
    set.add('moved', T + 7200);
    expect(set.prune(T + 600)).toBe(100);
    expect(set.size).toBe(101);
    expect(set.has('old-5')).toBe(false);
    expect(set.has('new-5')).toBe(true);
    expect(set.has('moved')).toBe(true);
    expect(set.prune(T + 100_000)).toBe(101);
    expect(set.size).toBe(0);
  });

  it('keeps a key until its whole bucket has passed', () => {
    const set = new ExpiringSet();
    set.add('a', T + 10);
    expect(set.prune(T + 11)).toBe(0);
    expect(set.has('a')).toBe(true);
    expect(set.prune(T + 200)).toBe(1);
  });

  it('deletes, and a key added again after a delete lives on', () => {
    const set = new ExpiringSet();
    set.add('a', T + 10);
    set.delete('a');
    expect(set.has('a')).toBe(false);
    set.add('a', T + 5000);
    expect(set.prune(T + 600)).toBe(0);
    expect(set.has('a')).toBe(true);
  });

  it('clear forgets every key, and a key added after it lives on', () => {
    const set = new ExpiringSet();
    set.add('a', T + 10);
    set.add('b', T + 5000);
    set.clear();
    expect(set.size).toBe(0);
    expect(set.has('a')).toBe(false);
    expect(set.expiryOf('b')).toBeUndefined();
    set.add('a', T + 5000);
    expect(set.prune(T + 600)).toBe(0);
    expect(set.has('a')).toBe(true);
  });

  it('has no expiry for a key it does not hold', () => {
    const set = new ExpiringSet();
    expect(set.expiryOf('never-added')).toBeUndefined();
    set.add('a', T + 10);
    set.delete('a');
    expect(set.expiryOf('a')).toBeUndefined();
  });

  it('rounds a fractional expiry up: a key never leaves before its time', () => {
    const set = new ExpiringSet();
    set.add('a', T + 10.2);
    expect(set.expiryOf('a')).toBe(T + 11);
  });

  describe('on bucket boundaries', () => {
    /** The start of a bucket: the set counts its one-minute buckets from 1_700_000_000, so T is 40 s into one. */
    const M = T + 20;

    it('a key outlives its expiry until its minute is over, and goes once the next has begun', () => {
      const set = new ExpiringSet();
      set.add('a', M + 10);
      expect(set.prune(M + 59)).toBe(0);
      expect(set.prune(M + 60)).toBe(1);
      expect(set.has('a')).toBe(false);
    });

    it('an expired key stays while its own minute is still running', () => {
      const set = new ExpiringSet();
      set.add('a', M + 60);
      expect(set.prune(M + 61)).toBe(0);
      expect(set.has('a')).toBe(true);
      expect(set.prune(M + 120)).toBe(1);
    });
  });
});

describe('ExpiringSet with the library ids (16 bytes in base64url, kept in typed arrays)', () => {
  /** A small deterministic generator (xorshift32), so a failure replays. */
  const random = (seed: number) => () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  const idFrom = (next: () => number) =>
    Buffer.from(Array.from({ length: 16 }, () => Math.floor(next() * 256))).toString('base64url');

  it('keeps an id and a 22-character key that only looks like one apart', () => {
    const set = new ExpiringSet();
    const id = Buffer.alloc(16).toString('base64url'); // 'AAAAAAAAAAAAAAAAAAAAAA'
    const lookalike = `${id.slice(0, 21)}B`; // same 16 bytes, spare bits set
    const other = `${id.slice(0, 21)}.`; // not base64url
    set.add(id, T + 10);
    expect(set.has(lookalike)).toBe(false);
    expect(set.has(other)).toBe(false);
    set.add(lookalike, T + 20);
    set.add(other, T + 30);
    expect(set.size).toBe(3);
    expect([set.expiryOf(id), set.expiryOf(lookalike), set.expiryOf(other)]).toEqual([T + 10, T + 20, T + 30]);
    set.delete(lookalike);
    expect(set.has(id)).toBe(true);
    expect(set.has(lookalike)).toBe(false);
  });

  it('answers as a Map would through adds, extensions, deletes and prunes, as it grows and shrinks', () => {
    const next = random(0x9e3779b9);
    const set = new ExpiringSet();
    const model = new Map<string, number>();
    const ids = Array.from({ length: 6000 }, () => idFrom(next));
    const pick = () => ids[Math.floor(next() * ids.length)];
    let now = T;
    for (let step = 0; step < 30_000; step++) {
      const roll = next();
      if (roll < 0.6) {
        const id = pick();
        const at = now + Math.floor(next() * 3600);
        set.add(id, at);
        model.set(id, Math.max(model.get(id) ?? -Infinity, at));
      } else if (roll < 0.8) {
        const id = pick();
        set.delete(id);
        model.delete(id);
      } else if (roll < 0.9996) {
        const id = pick();
        expect(set.has(id)).toBe(model.has(id));
        expect(set.expiryOf(id)).toBe(model.get(id));
      } else {
        now += Math.floor(next() * 1800);
        // Pruned: what expired before the start of the current minute, counted from 1_700_000_000.
        const limit = 1_700_000_000 + Math.floor((now - 1_700_000_000) / 60) * 60;
        let expected = 0;
        for (const [id, at] of model)
          if (at < limit) {
            model.delete(id);
            expected++;
          }
        expect(set.prune(now)).toBe(expected);
      }
      if (step % 1000 === 0) expect(set.size).toBe(model.size);
    }
    for (const id of ids) expect(set.expiryOf(id)).toBe(model.get(id));
    // All of them past: the table shrinks back, and still answers.
    expect(set.prune(now + 10_000)).toBe(model.size);
    expect(set.size).toBe(0);
    set.add(ids[0], now + 20_000);
    expect(set.has(ids[0])).toBe(true);
    expect(set.has(ids[1])).toBe(false);
  });

  it('holds 200 000 ids and finds each of them, and the rest once most are pruned', () => {
    const next = random(12345);
    const bytes = Buffer.from(Array.from({ length: 16 * 200_000 }, () => Math.floor(next() * 256)));
    const ids = Array.from({ length: 200_000 }, (_, i) => bytes.toString('base64url', 16 * i, 16 * i + 16));
    const set = new ExpiringSet();
    ids.forEach((id, i) => set.add(id, T + (i % 3600)));
    expect(set.size).toBe(new Set(ids).size);
    expect(ids.filter((id, i) => set.expiryOf(id) !== T + (i % 3600))).toEqual([]);
    expect(set.has(idFrom(random(777)))).toBe(false);
    // Most of them past: what is left moves to a smaller store, and is all still there.
    const now = T + 3000;
    const limit = 1_700_000_000 + Math.floor((now - 1_700_000_000) / 60) * 60;
    const left = ids.filter((_, i) => T + (i % 3600) >= limit);
    expect(set.prune(now)).toBe(ids.length - left.length);
    expect(set.size).toBe(left.length);
    expect(ids.filter((id, i) => set.expiryOf(id) !== (T + (i % 3600) >= limit ? T + (i % 3600) : undefined))).toEqual(
      [],
    );
    const more = Array.from({ length: 1000 }, (_, i) => bytes.toString('base64url', 16 * i + 8, 16 * i + 24));
    more.forEach((id) => set.add(id, T + 7200));
    expect(more.every((id) => set.expiryOf(id) === T + 7200)).toBe(true);
    expect(set.size).toBe(left.length + 1000);
  });
});
