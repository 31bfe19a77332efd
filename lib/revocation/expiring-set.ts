/**
 * Keys that matter until a known time (epoch seconds), then are forgotten:
 * revoked jtis until their token's `exp`, revoked sessions until the last
 * access token they could hold has expired. Keys are grouped in one-minute
 * buckets by expiry, so pruning drops whole buckets instead of scanning every
 * key, and memory follows the unexpired entries, not history.
 */
export class ExpiringSet {
  // Times are kept relative to a recent base so they stay small integers (V8
  // stores those unboxed in the map): about 16 bytes less per entry.
  private static readonly BASE = 1_700_000_000;
  private static readonly BUCKET_SECONDS = 60;
  private readonly expiries = new Map<string, number>();
  private readonly buckets = new Map<number, string[]>();

  get size(): number {
    return this.expiries.size;
  }

  has(key: string): boolean {
    return this.expiries.has(key);
  }

  /** Expiry of a key, epoch seconds, or undefined. */
  expiryOf(key: string): number | undefined {
    const stored = this.expiries.get(key);
    return stored === undefined ? undefined : stored + ExpiringSet.BASE;
  }

  /** Adds a key, or extends it; an earlier expiry never shortens a later one. */
  add(key: string, expiresAt: number): void {
    const stored = Math.ceil(expiresAt) - ExpiringSet.BASE;
    const previous = this.expiries.get(key);
    if (previous !== undefined && previous >= stored) return;
    this.expiries.set(key, stored);
    const bucket = Math.floor(stored / ExpiringSet.BUCKET_SECONDS);
    const keys = this.buckets.get(bucket);
    if (keys) keys.push(key);
    else this.buckets.set(bucket, [key]);
  }

  delete(key: string): void {
    // Its bucket still names it; prune skips keys whose expiry moved on.
    this.expiries.delete(key);
  }

  /**
   * Forgets the keys of every one-minute bucket that has wholly passed by
   * `now` (epoch seconds): a key outlives its expiry by under two minutes,
   * which is harmless (its token has expired too). Returns how many.
   */
  prune(now: number): number {
    const limit = now - ExpiringSet.BASE;
    const lastFullBucket = Math.floor(limit / ExpiringSet.BUCKET_SECONDS) - 1;
    let removed = 0;
    for (const [bucket, keys] of this.buckets) {
      if (bucket > lastFullBucket) continue;
      for (const key of keys) {
        const stored = this.expiries.get(key);
        if (stored !== undefined && stored < limit && Math.floor(stored / ExpiringSet.BUCKET_SECONDS) === bucket) {
          this.expiries.delete(key);
          removed++;
        }
      }
      this.buckets.delete(bucket);
    }
    return removed;
  }

  clear(): void {
    this.expiries.clear();
    this.buckets.clear();
  }
}
