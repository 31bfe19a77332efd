import { describe, expect, it } from '@jest/globals';
import { chunks } from 'nestjs-jwt-revocation/testing';

// The store splits IN (...) lists with it, to stay under every database's parameter
// limit (65,535 on PostgreSQL and MariaDB). A wrong split is invisible below 500 ids,
// and would fail only past that limit: hence a test of its own.
describe('chunks', () => {
  it('splits in order into lists of the given size, the last one shorter', () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunks([1, 2, 3, 4], 2)).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('has no empty list: none for nothing, one for fewer than the size', () => {
    expect(chunks([], 2)).toEqual([]);
    expect(chunks(['a'], 2)).toEqual([['a']]);
  });

  it('takes 500 at a time by default', () => {
    const ids = Array.from({ length: 1001 }, (_, i) => `id-${i}`);
    const parts = chunks(ids);
    expect(parts.map((part) => part.length)).toEqual([500, 500, 1]);
    expect(parts.flat()).toEqual(ids);
  });
});
