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
});
