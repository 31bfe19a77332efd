export const EMPTY = -0x80000000;
export const MIN_TIME = EMPTY + 1;
export const MAX_TIME = 0x7fffffff;
const MIN_CAPACITY = 64;

/** Per-process seed of the hash: keys come from outside (a token's jti). */
const SEED = (Math.random() * 0x100000000) | 0;

export function hash(w0: number, w1: number, w2: number, w3: number): number {
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
export class IdTable {
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
