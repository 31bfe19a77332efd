/** base64url digit values by char code, -1 for a char that is not one. */
const DIGITS = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  .split('')
  .forEach((char, value) => (DIGITS[char.charCodeAt(0)] = value));

const EMPTY = -0x80000000;
const MIN_TIME = EMPTY + 1;
const MAX_TIME = 0x7fffffff;
/** Tables per set, chosen by the top bits of a key's hash: each grows on its own, so a growth copies 1/64 of the keys. */
const SHARD_BITS = 6;
const MIN_CAPACITY = 64;

/** Per-process seed of the hash: keys come from outside (a token's jti). */
const SEED = (Math.random() * 0x100000000) | 0;

function hash(w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(w0 ^ SEED, 0x9e3779b1);
  h = Math.imul(h ^ w1 ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ w2 ^ (h >>> 13), 0xc2b2ae35);
  h ^= w3 ^ (h >>> 16);
  return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
}

/** Keys per chunk of a table's key store: chunks are added as it fills, never moved. */
const CHUNK_BITS = 10;
const CHUNK = 1 << CHUNK_BITS;
/** An index entry: 8 bits of the key's hash, then its position in the store plus one (0: a free slot). */
const POSITION_BITS = 24;
const POSITION_MASK = (1 << POSITION_BITS) - 1;

/**
 * The keys of one shard: their 16 bytes (four 32-bit words) and times in a
 * store of fixed-size chunks, in the order added (a freed position is reused),
 * and an open-addressing index with linear probing over it, at most 3/4 full,
 * of 32-bit entries holding 8 bits of the key's hash (most probes that miss
 * never read the store) and the key's position. A growth rebuilds the index
 * alone (4 bytes a slot); the store never moves.
 */
class IdTable {
  used = 0;
  private keys: Int32Array[] = [];
  private times: Int32Array[] = [];
  /** Positions handed out so far; freed ones are chained through their first word from `freed`. */
  private top = 0;
  private freed = -1;
  private index = new Uint32Array(MIN_CAPACITY);
  private mask = MIN_CAPACITY - 1;

  /** The index slot of the key, or -1. */
  find(w0: number, w1: number, w2: number, w3: number, h: number): number {
    const { index, mask, keys } = this;
    const tag = h >>> POSITION_BITS;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const entry = index[slot];
      if (entry === 0) return -1;
      if (entry >>> POSITION_BITS !== tag) continue;
      const position = (entry & POSITION_MASK) - 1;
      const chunk = keys[position >>> CHUNK_BITS];
      const at = (position & (CHUNK - 1)) * 4;
      if (chunk[at] === w0 && chunk[at + 1] === w1 && chunk[at + 2] === w2 && chunk[at + 3] === w3) return slot;
    }
  }

  timeAt(slot: number): number {
    const position = (this.index[slot] & POSITION_MASK) - 1;
    return this.times[position >>> CHUNK_BITS][position & (CHUNK - 1)];
  }

  /** Moves the key's time later (never earlier). */
  extend(slot: number, time: number): void {
    const position = (this.index[slot] & POSITION_MASK) - 1;
    const times = this.times[position >>> CHUNK_BITS];
    if (times[position & (CHUNK - 1)] < time) times[position & (CHUNK - 1)] = time;
  }

  /** Adds a key known to be absent. */
  insert(w0: number, w1: number, w2: number, w3: number, h: number, time: number): void {
    if ((this.used + 1) * 4 > (this.mask + 1) * 3) this.reindex((this.mask + 1) * 2);
    let position = this.freed;
    if (position >= 0) {
      this.freed = this.keys[position >>> CHUNK_BITS][(position & (CHUNK - 1)) * 4];
    } else {
      position = this.top++;
      if (position > POSITION_MASK - 1) throw new RangeError('ExpiringSet: over 16M keys in one shard');
      if (position >>> CHUNK_BITS === this.keys.length) {
        this.keys.push(new Int32Array(CHUNK * 4));
        this.times.push(new Int32Array(CHUNK).fill(EMPTY));
      }
    }
    const keys = this.keys[position >>> CHUNK_BITS];
    const at = (position & (CHUNK - 1)) * 4;
    keys[at] = w0;
    keys[at + 1] = w1;
    keys[at + 2] = w2;
    keys[at + 3] = w3;
    this.times[position >>> CHUNK_BITS][position & (CHUNK - 1)] = time;
    this.place(h, position);
    this.used++;
  }

  /** Frees an index slot and its position; later entries of the run move back, so each stays reachable from its home slot. */
  remove(slot: number): void {
    const { index, mask } = this;
    const position = (index[slot] & POSITION_MASK) - 1;
    this.times[position >>> CHUNK_BITS][position & (CHUNK - 1)] = EMPTY;
    this.keys[position >>> CHUNK_BITS][(position & (CHUNK - 1)) * 4] = this.freed;
    this.freed = position;
    this.used--;
    let hole = slot;
    for (let next = (hole + 1) & mask; index[next] !== 0; next = (next + 1) & mask) {
      const home = this.hashAt((index[next] & POSITION_MASK) - 1) & mask;
      // The entry at `next` may fill the hole unless its home lies cyclically within (hole, next].
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        index[hole] = index[next];
        hole = next;
      }
    }
    index[hole] = 0;
  }

  /** Removes every key whose time is before `limit`, in one pass over the store; returns how many. */
  prune(limit: number): number {
    let removed = 0;
    for (let position = 0; position < this.top; position++) {
      const time = this.times[position >>> CHUNK_BITS][position & (CHUNK - 1)];
      if (time === EMPTY || time >= limit) continue;
      const { index, mask } = this;
      const h = this.hashAt(position);
      let slot = h & mask;
      while ((index[slot] & POSITION_MASK) - 1 !== position) slot = (slot + 1) & mask;
      this.remove(slot);
      removed++;
    }
    // Mostly holes: the keys left move to a store of their own size, and the index shrinks.
    if (this.top > CHUNK && this.used * 4 < this.top) this.compact();
    return removed;
  }

  private hashAt(position: number): number {
    const keys = this.keys[position >>> CHUNK_BITS];
    const at = (position & (CHUNK - 1)) * 4;
    return hash(keys[at], keys[at + 1], keys[at + 2], keys[at + 3]);
  }

  private place(h: number, position: number): void {
    let slot = h & this.mask;
    while (this.index[slot] !== 0) slot = (slot + 1) & this.mask;
    this.index[slot] = (((h >>> POSITION_BITS) << POSITION_BITS) | (position + 1)) >>> 0;
  }

  private reindex(capacity: number): void {
    this.index = new Uint32Array(capacity);
    this.mask = capacity - 1;
    for (let position = 0; position < this.top; position++) {
      if (this.times[position >>> CHUNK_BITS][position & (CHUNK - 1)] !== EMPTY)
        this.place(this.hashAt(position), position);
    }
  }

  private compact(): void {
    const { keys, times, top } = this;
    this.keys = [];
    this.times = [];
    this.top = 0;
    this.freed = -1;
    this.used = 0;
    let capacity = MIN_CAPACITY;
    while (capacity * 3 < this.countLive(times, top) * 4) capacity *= 2;
    this.index = new Uint32Array(capacity);
    this.mask = capacity - 1;
    for (let position = 0; position < top; position++) {
      const time = times[position >>> CHUNK_BITS][position & (CHUNK - 1)];
      if (time === EMPTY) continue;
      const chunk = keys[position >>> CHUNK_BITS];
      const at = (position & (CHUNK - 1)) * 4;
      const [w0, w1, w2, w3] = [chunk[at], chunk[at + 1], chunk[at + 2], chunk[at + 3]];
      this.insert(w0, w1, w2, w3, hash(w0, w1, w2, w3), time);
    }
  }

  private countLive(times: Int32Array[], top: number): number {
    let live = 0;
    for (let position = 0; position < top; position++)
      if (times[position >>> CHUNK_BITS][position & (CHUNK - 1)] !== EMPTY) live++;
    return live;
  }
}

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
