/** Waits `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Waits until `Date.now()` reaches `at` (epoch ms). Not one setTimeout: timers
 * run on the monotonic clock and may fire a millisecond before the wall clock
 * says the time has come (seen in CI).
 */
export async function until(at: number): Promise<void> {
  while (Date.now() < at) await sleep(Math.max(1, at - Date.now()));
}

/** Asks every 50 ms until `want` holds (a truthy answer, by default); returns how long it took, or throws past `ms` naming what it saw. */
export async function within<T>(
  ms: number,
  ask: () => Promise<T> | T,
  want: (seen: T) => boolean = Boolean,
  show: (seen: T) => string = String,
): Promise<number> {
  const started = Date.now();
  const seen: string[] = [];
  for (;;) {
    const value = await ask();
    if (want(value)) return Date.now() - started;
    if (seen.at(-1) !== show(value)) seen.push(show(value));
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms; seen: ${seen.join(', ')}`);
    await sleep(50);
  }
}

/**
 * Waits, if need be, until the clock is early in a second. A token of a one-second
 * lifetime (`accessTokenTtl: 1`) has `iat` and `exp` in whole seconds: issued at
 * x.990 it expires 10 ms later. After this it lives at least 900 ms.
 */
export async function earlyInASecond(): Promise<void> {
  const ms = Date.now() % 1000;
  if (ms > 100) await sleep(1005 - ms);
}
