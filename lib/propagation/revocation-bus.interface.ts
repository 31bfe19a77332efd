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

/** No bus: instances learn of each other's revocations by polling the database. */
export class PollingBus implements RevocationBus {
  readonly mode = 'poll' as const;
  readonly connected = true;
  async start(): Promise<void> {}
  async publish(): Promise<void> {}
  async stop(): Promise<void> {}
}

export function parseEvent(raw: string): RevocationEvent | null {
  try {
    const e = JSON.parse(raw) as Partial<RevocationEvent>;
    const ok =
      (e.kind === 'token' || e.kind === 'session' || e.kind === 'subject') &&
      typeof e.key === 'string' &&
      typeof e.value === 'number' &&
      typeof e.at === 'number' &&
      typeof e.seq === 'number';
    return ok ? (e as RevocationEvent) : null;
  } catch {
    return null;
  }
}
