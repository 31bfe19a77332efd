import { hash, IdTable, MAX_TIME, MIN_TIME } from './id-table.js';

/** base64url digit values by char code, -1 for a char that is not one. */
const DIGITS = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  .split('')
  .forEach((char, value) => (DIGITS[char.charCodeAt(0)] = value));

/** Tables per set, chosen by the top bits of a key's hash: each grows on its own, so a growth copies 1/64 of the keys. */
const SHARD_BITS = 6;

/**
 * Keys that matter until a known time (epoch seconds), then are forgotten:
 * revoked jtis until their token's `exp`, revoked sessions until the last
 * access token they could hold has expired.
 *
 * The library's jtis and session ids are 16 random bytes in base64url (22
 * characters): those are kept as their 16 bytes and a 32-bit time in typed
 * arrays, open-addressing tables with linear probing (20 bytes a slot, at
 * most 3/4 full: 27 to 40 bytes a key, none of it on the JavaScript heap, so
 * the collector never walks it; 64 tables, each growing alone, so a growth
 * never copies the whole set). Any other key (an app's own jtis in a
 * migration window) goes to a Map. Pruning scans the tables; it forgets what
 * expired in one-minute steps, so memory follows the unexpired entries, not
 * history.
 */
export class ExpiringSet {
  // Times are kept relative to a recent base so they fit in 32 bits (until 2091).
  private static readonly BASE = 1_700_000_000;
  private static readonly BUCKET_SECONDS = 60;

  private tables = ExpiringSet.emptyTables();
  private readonly others = new Map<string, number>();
  /** Scratch: the 16 bytes of the key being looked up. */
  private readonly key = new Int32Array(4);
  private readonly keyBytes = new Uint8Array(this.key.buffer);

  private static emptyTables(): IdTable[] {
    return Array.from({ length: 1 << SHARD_BITS }, () => new IdTable());
  }

  get size(): number {
    let size = this.others.size;
    for (const table of this.tables) size += table.used;
    return size;
  }

  has(key: string): boolean {
    if (!this.decode(key)) return this.others.has(key);
    const { key: w } = this;
    const h = hash(w[0], w[1], w[2], w[3]);
    return this.tables[h >>> (32 - SHARD_BITS)].find(w[0], w[1], w[2], w[3], h) >= 0;
  }

  /** Expiry of a key, epoch seconds, or undefined. */
  expiryOf(key: string): number | undefined {
    let stored: number | undefined;
    if (this.decode(key)) {
      const { key: w } = this;
      const h = hash(w[0], w[1], w[2], w[3]);
      const table = this.tables[h >>> (32 - SHARD_BITS)];
      const slot = table.find(w[0], w[1], w[2], w[3], h);
      stored = slot >= 0 ? table.timeAt(slot) : undefined;
    } else stored = this.others.get(key);
    return stored === undefined ? undefined : stored + ExpiringSet.BASE;
  }

  /** Adds a key, or extends it; an earlier expiry never shortens a later one. */
  add(key: string, expiresAt: number): void {
    const stored = Math.min(MAX_TIME, Math.max(MIN_TIME, Math.ceil(expiresAt) - ExpiringSet.BASE));
    if (!this.decode(key)) {
      const previous = this.others.get(key);
      if (previous === undefined || previous < stored) this.others.set(key, stored);
      return;
    }
    const { key: w } = this;
    const h = hash(w[0], w[1], w[2], w[3]);
    const table = this.tables[h >>> (32 - SHARD_BITS)];
    const slot = table.find(w[0], w[1], w[2], w[3], h);
    if (slot < 0) table.insert(w[0], w[1], w[2], w[3], h, stored);
    else table.extend(slot, stored);
  }

  delete(key: string): void {
    if (!this.decode(key)) {
      this.others.delete(key);
      return;
    }
    const { key: w } = this;
    const h = hash(w[0], w[1], w[2], w[3]);
    const table = this.tables[h >>> (32 - SHARD_BITS)];
    const slot = table.find(w[0], w[1], w[2], w[3], h);
    if (slot >= 0) table.remove(slot);
  }

  /**
   * Forgets the keys of every one-minute step (counted from BASE) that has
   * wholly passed by `now` (epoch seconds): a key outlives its expiry by
   * under two minutes, which is harmless (its token has expired too). One
   * pass over the tables. Returns how many.
   */
  prune(now: number): number {
    const step = ExpiringSet.BUCKET_SECONDS;
    const limit = Math.floor((now - ExpiringSet.BASE) / step) * step;
    let removed = 0;
    for (const [key, stored] of this.others) {
      if (stored < limit) {
        this.others.delete(key);
        removed++;
      }
    }
    for (const table of this.tables) removed += table.prune(limit);
    return removed;
  }

  clear(): void {
    this.others.clear();
    this.tables = ExpiringSet.emptyTables();
  }

  /**
   * Reads a 22-character base64url key into `this.key`. False for any other
   * key, and for one whose last character carries bits 16 bytes do not have
   * (its own spelling of those bytes would differ): it goes to the Map.
   */
  private decode(key: string): boolean {
    if (key.length !== 22) return false;
    const bytes = this.keyBytes;
    let at = 0;
    for (let i = 0; i < 20; i += 4) {
      const a = digit(key, i);
      const b = digit(key, i + 1);
      const c = digit(key, i + 2);
      const d = digit(key, i + 3);
      if ((a | b | c | d) < 0) return false;
      bytes[at++] = (a << 2) | (b >> 4);
      bytes[at++] = ((b & 15) << 4) | (c >> 2);
      bytes[at++] = ((c & 3) << 6) | d;
    }
    const a = digit(key, 20);
    const b = digit(key, 21);
    if ((a | b) < 0 || (b & 15) !== 0) return false;
    bytes[15] = (a << 2) | (b >> 4);
    return true;
  }
}

function digit(key: string, index: number): number {
  const code = key.charCodeAt(index);
  return code < 128 ? DIGITS[code] : -1;
}
