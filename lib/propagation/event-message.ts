import type { RevocationEvent } from '../interfaces/revocation-event.interface.js';

/** An event as another instance published it, or null for anything that is not one (a bus carries what anyone may send). */
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
