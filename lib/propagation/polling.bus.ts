import type { RevocationBus } from './revocation-bus.interface.js';

/** No bus: instances learn of each other's revocations by polling the database. */
export class PollingBus implements RevocationBus {
  readonly mode = 'poll' as const;
  readonly connected = true;
  async start(): Promise<void> {}
  async publish(): Promise<void> {}
  async stop(): Promise<void> {}
}
