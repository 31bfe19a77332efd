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
