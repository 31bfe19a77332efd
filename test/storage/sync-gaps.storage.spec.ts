import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import type { JwtRevocationModuleOptions } from 'nestjs-jwt-revocation';
import { RevocationSync } from 'nestjs-jwt-revocation/testing';
import { eachDatabase, twoInstancesOn, type TestDatabase } from '../support/databases.js';
import { bootModule, claimsOf, type ModuleApp } from '../support/module-app.js';
import { sleep, within } from '../support/time.js';

/**
 * README, "Several instances": an instance catches up from the database "whenever
 * an event's sequence skips". A message the bus lost is played here by an
 * instance that writes a revocation and publishes nothing (`propagation: 'poll'`);
 * the next revocation, published, arrives with a sequence number one too far.
 * Every instance catches up every 300 s only, so no periodic catch-up can explain
 * what arrives.
 */
const QUIET: Partial<JwtRevocationModuleOptions> = { syncInterval: 300, maxStaleness: 600, lastSeenFlushInterval: 300 };
/** An event table (and so a Redis channel and a NOTIFY channel) of this suite's own: other suites' events stay out. */
const OWN_CHANNEL = {
  tableNames: { revocationEvent: 'jwt_gap_revocation_event' },
} as Partial<JwtRevocationModuleOptions>;
/** How long a bus may take to deliver, on a loaded machine: far below the 300 s between catch-ups. */
const BUS_MS = 5000;

const REDIS = process.env.TEST_REDIS_URL;
if (!REDIS) console.warn('\n*** SKIPPED: "sequence gaps" over Redis: set TEST_REDIS_URL to run it. ***\n');

function busesOn(db: TestDatabase): Array<[string, Partial<JwtRevocationModuleOptions>]> {
  const buses: Array<[string, Partial<JwtRevocationModuleOptions>]> = [];
  if (REDIS) buses.push(['redis', { redis: REDIS }]);
  if (db.name === 'postgres') buses.push(['notify', { propagation: 'notify' }]);
  return buses;
}

interface Instances {
  /** The instance under test. */
  b: ModuleApp;
  /** Writes revocations and publishes none of them: the lost messages. */
  silent: ModuleApp;
  /** Writes revocations and publishes them on the bus. */
  loud: ModuleApp;
  close(): Promise<void>;
}

async function instances(
  db: TestDatabase,
  bus: Partial<JwtRevocationModuleOptions>,
  before?: (loud: ModuleApp) => Promise<void>,
): Promise<Instances> {
  const loud = await bootModule(db.fresh(), { ...QUIET, ...bus, ...OWN_CHANNEL });
  const silent = await bootModule(db.reopen(), { ...QUIET, propagation: 'poll', ...OWN_CHANNEL });
  await before?.(loud);
  const b = await bootModule(db.reopen(), { ...QUIET, ...bus, ...OWN_CHANNEL });
  return {
    b,
    silent,
    loud,
    close: async () => {
      for (const m of [b, silent, loud]) await m.close();
    },
  };
}

/** Revokes a new token of `subject` on `on`; returns its access token. */
async function revokedOn(on: ModuleApp, subject: string): Promise<string> {
  const { accessToken, jti } = await on.tokens.issue(subject);
  expect(await on.tokens.revoke(jti, 'admin')).toBe(true);
  return accessToken;
}

const verdict = (m: ModuleApp, accessToken: string) => m.state.verdict(claimsOf(accessToken));

/**
 * The lost message, then one published with the next number: B has not heard of
 * the first until the second arrives, and then catches up at once.
 */
async function expectCatchUpOnGap({ b, silent, loud }: Instances): Promise<void> {
  const sync = b.app.get(RevocationSync);
  const syncedAt = sync.status().lastSyncAt;
  const seqBefore = sync.status().lastSeq;

  const missed = await revokedOn(silent, 'gap.missed');
  // The control: nothing brings it to B, the bus carried no message and no catch-up is due.
  await sleep(500);
  expect(verdict(b, missed)).toBe('active');
  expect(sync.status().lastSyncAt).toBe(syncedAt);

  const next = await revokedOn(loud, 'gap.next');
  await within(BUS_MS, () => verdict(b, next) === 'revoked');
  // The sequence skipped: B caught up from the database, and found the missed revocation.
  await within(BUS_MS, () => verdict(b, missed) === 'revoked');
  expect(sync.status().lastSyncAt).toBeGreaterThan(syncedAt);
  expect(sync.status().lastSeq).toBeGreaterThanOrEqual(seqBefore + 2);
}

eachDatabase('sequence gaps', (database) => {
  const db = database();
  for (const [name, bus] of busesOn(db)) {
    describe(`over ${name}`, () => {
      twoInstancesOn(db)(
        'an event whose sequence skips one makes the instance catch up at once, and apply the missed revocation',
        async () => {
          const running = await instances(db, bus);
          try {
            // B hears one event first, so it knows where the sequence stands.
            const first = await revokedOn(running.loud, 'gap.first');
            await within(BUS_MS, () => verdict(running.b, first) === 'revoked');
            expect(running.b.app.get(RevocationSync).status().lastSeq).toBeGreaterThan(0);
            await expectCatchUpOnGap(running);
          } finally {
            await running.close();
          }
        },
      );

      twoInstancesOn(db)(
        'right after boot too: the first event heard skips past what the boot load read, and the instance catches up',
        async () => {
          const running = await instances(db, bus, async (loud) => {
            await revokedOn(loud, 'gap.before-boot');
          });
          try {
            await expectCatchUpOnGap(running);
          } finally {
            await running.close();
          }
        },
      );
    });
  }
  if (busesOn(db).length === 0) it.skip('no bus to lose a message on (set TEST_REDIS_URL)', () => undefined);
});
