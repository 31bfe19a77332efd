import { afterAll, beforeAll } from '@jest/globals';

/**
 * The app of the enclosing describe block: started in its beforeAll, closed in its
 * afterAll. What this returns stands for the running app from the first test on (it
 * forwards to it), so a suite reads `const sample = appForSuite(() => startSample(...))`.
 */
export function appForSuite<T extends { close(): Promise<void> }>(start: () => Promise<T>): T {
  let running: T | undefined;
  beforeAll(async () => {
    running = await start();
  });
  afterAll(async () => {
    await running?.close();
  });
  const current = (): T => {
    if (!running) throw new Error("the suite's app is used before its beforeAll started it");
    return running;
  };
  return new Proxy({} as T, {
    get: (_target, key) => {
      const value: unknown = Reflect.get(current(), key);
      return typeof value === 'function' ? value.bind(current()) : value;
    },
    has: (_target, key) => key in current(),
  });
}
