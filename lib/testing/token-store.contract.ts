import {
  topic,
  type ContractTestApi,
  type MakeContractStore,
  type TokenStoreContractOptions,
} from './contract/context.js';
import { eventCases } from './contract/events.contract.js';
import { historyCases } from './contract/history.contract.js';
import { renewalCases } from './contract/renewal.contract.js';
import { revocationCases } from './contract/revocation.contract.js';
import { rotationCases } from './contract/rotation.contract.js';
import { securityEventCases } from './contract/security-events.contract.js';
import { sessionCases } from './contract/sessions.contract.js';
import { sweepCases } from './contract/sweep.contract.js';

export type {
  ContractExpect,
  ContractMatchers,
  ContractStore,
  ContractTestApi,
  MakeContractStore,
  TokenStoreContractOptions,
} from './contract/context.js';

/**
 * What every `TokenStore` must do, as a test suite: a store proves itself by
 * passing it. The default TypeORM store and `InMemoryTokenStore` run it on
 * every release; run it on yours.
 *
 * It registers its cases with the functions you pass, so it runs under Jest,
 * Vitest or node:test (with an expect-compatible `expect`). `makeStore` is
 * called once per topic (sessions, rotation, renewal, revocation, events,
 * sweep, history, security events) and must give a store holding nothing yet; `close` ends it.
 * Times are arguments of the store's methods, never the wall clock: the
 * cases move time forward by passing later times.
 *
 * ```ts
 * import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
 * import { InMemoryTokenStore, tokenStoreContract } from 'nestjs-jwt-revocation/testing';
 *
 * tokenStoreContract('InMemoryTokenStore', async () => ({ store: new InMemoryTokenStore(), close: async () => {} }),
 *   { describe, it, expect, beforeAll, afterAll });
 * ```
 */
export function tokenStoreContract(
  name: string,
  makeStore: MakeContractStore,
  t: ContractTestApi,
  options: TokenStoreContractOptions = {},
): void {
  t.describe(`TokenStore contract: ${name}`, () => {
    topic(t, makeStore, options, 'sessions', sessionCases);
    topic(t, makeStore, options, 'rotation', rotationCases);
    topic(t, makeStore, options, 'renewal', renewalCases);
    topic(t, makeStore, options, 'revocation', revocationCases);
    topic(t, makeStore, options, 'events and boot loads', eventCases);
    topic(t, makeStore, options, 'sweep', sweepCases);
    topic(t, makeStore, options, 'history', historyCases);
    topic(t, makeStore, options, 'security events', securityEventCases);
  });
}
