import type { RevocationEvent } from '../interfaces/revocation-event.interface.js';

export type PropagationMode = 'redis' | 'notify' | 'poll';

export interface BusHandlers {
  /** An event from another instance (or our own, echoed: applying twice is harmless). */
  event(event: RevocationEvent): void;
  /** The connection came back: messages may have been lost meanwhile. */
  reconnected(): void;
}

/**
 * How instances tell each other about revocations, at most once: a message
 * can be lost, so every event is in the database first and a catch-up from
 * there bounds what a lost message costs.
 */
export interface RevocationBus {
  readonly mode: PropagationMode;
  /** Whether the bus is connected right now (polling: always). */
  readonly connected: boolean;
  start(handlers: BusHandlers): Promise<void>;
  publish(event: RevocationEvent): Promise<void>;
  stop(): Promise<void>;
}
