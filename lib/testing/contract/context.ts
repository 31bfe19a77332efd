import type { TokenStore } from '../../storage/token-store.interface.js';

/** What an assertion needs: Jest's, Vitest's or the `expect` package's matchers all fit. */
export interface ContractMatchers {
  toBe(expected: unknown): unknown;
  toEqual(expected: unknown): unknown;
  toBeNull(): unknown;
  toBeGreaterThan(expected: number): unknown;
  toHaveLength(expected: number): unknown;
  toMatchObject(expected: object): unknown;
  not: {
    toBe(expected: unknown): unknown;
    toEqual(expected: unknown): unknown;
    toBeNull(): unknown;
  };
}

export type ContractExpect = (actual: unknown) => ContractMatchers;

/**
 * The test functions the contract registers its cases with. The contract
 * imports no test runner: pass Jest's (from `@jest/globals`), Vitest's, or
 * node:test's `describe`/`it`/`before`/`after` with an expect-compatible API.
 */
export interface ContractTestApi {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>, timeout?: number): unknown;
  expect: ContractExpect;
  beforeAll(body: () => Promise<void>, timeout?: number): unknown;
  afterAll(body: () => Promise<void>, timeout?: number): unknown;
}

/** A store under test and how to let it go. */
export interface ContractStore {
  store: TokenStore;
  close(): Promise<void>;
}

/**
 * Makes a store holding nothing yet. Called once per topic of the contract
 * (sessions, rotation, ...), and closed when the topic ends.
 */
export type MakeContractStore = () => Promise<ContractStore>;

export interface TokenStoreContractOptions {
  /** How many calls the concurrency cases run at once. Default 8. */
  concurrency?: number;
  /** Per case and hook, in ms, handed to `it`/`beforeAll`/`afterAll`. Default: the runner's own. */
  timeout?: number;
}

/** What every topic file is given. */
export interface ContractContext {
  expect: ContractExpect;
  /** The store of the topic under way. */
  store(): TokenStore;
  /** Registers a case, with the contract's timeout. */
  it(name: string, body: () => Promise<void>): void;
  /** Registers a group of cases. */
  describe(name: string, body: () => void): void;
  /** How many calls a concurrency case runs at once. */
  concurrency: number;
}

/** A topic: a group of cases on a store of its own, made before and closed after. */
export function topic(
  t: ContractTestApi,
  makeStore: MakeContractStore,
  options: TokenStoreContractOptions,
  name: string,
  cases: (ctx: ContractContext) => void,
): void {
  const { timeout, concurrency = 8 } = options;
  t.describe(name, () => {
    let current: ContractStore | undefined;
    t.beforeAll(async () => {
      current = await makeStore();
    }, timeout);
    t.afterAll(async () => {
      await current?.close();
    }, timeout);
    cases({
      expect: t.expect,
      store: () => {
        if (!current) throw new Error('the store of this topic was not made (did makeStore fail?)');
        return current.store;
      },
      it: (caseName, body) => void t.it(caseName, body, timeout),
      describe: (groupName, body) => void t.describe(groupName, body),
      concurrency,
    });
  });
}
