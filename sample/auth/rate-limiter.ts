/**
 * Counts hits per key in fixed windows: at most `limit` per key per window.
 * A new window forgets every key, so memory holds one window's clients at
 * most. In memory, per instance: several instances each allow `limit`.
 */
export class FixedWindowLimiter {
  private windowStart = Date.now();
  private counts = new Map<string, number>();

  constructor(
    readonly limit: number,
    private readonly windowMs = 60_000,
  ) {}

  /** Counts one hit for `key`: 0 while within the limit, else the seconds until the window ends (for Retry-After). */
  hit(key: string): number {
    const now = Date.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.counts = new Map();
    }
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    if (count <= this.limit) return 0;
    return Math.max(1, Math.ceil((this.windowStart + this.windowMs - now) / 1000));
  }
}
