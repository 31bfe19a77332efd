import 'reflect-metadata';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createHmac, hkdfSync } from 'node:crypto';
import { eachDatabase, type TestDatabase } from '../support/databases.js';
import { bootModule, entities, type ModuleApp } from '../support/module-app.js';
import { TEST_SECRET } from '../support/keys.js';
import { sha256 } from '../support/token-rows.js';

/** Every string a copy of the database holds: the keys an attacker would try. */
async function everythingStored(m: ModuleApp): Promise<{ values: string[]; hashes: Set<string> }> {
  const values = new Set<string>();
  const hashes = new Set<string>();
  for (const entity of Object.values(entities)) {
    for (const row of await m.source.getRepository(entity).find()) {
      for (const value of Object.values(row as Record<string, unknown>)) {
        if (value === null || value === undefined) continue;
        values.add(typeof value === 'object' ? JSON.stringify(value) : String(value));
      }
      const hash = (row as { tokenHash?: string | null }).tokenHash;
      if (hash) hashes.add(hash);
    }
  }
  return { values: [...values], hashes };
}

/** Successors an attacker could compute from a spent token and one stored value. */
function guesses(spent: string, value: string): string[] {
  const out: string[] = [];
  for (const key of [value, Buffer.from(value, 'base64url')]) {
    for (const message of [spent, `${value}${spent}`, `${value}\0${spent}`, `${spent}${value}`]) {
      const mac = createHmac('sha256', key).update(message);
      const digest = mac.digest();
      out.push(digest.toString('base64url'), digest.toString('hex'));
    }
  }
  return out;
}

eachDatabase('refresh successors', (db: () => TestDatabase) => {
  let m: ModuleApp;

  beforeAll(async () => {
    m = await bootModule(db().fresh(), {
      signing: {
        keys: [
          { kid: 'new', secret: TEST_SECRET },
          { kid: 'old', secret: `${TEST_SECRET}-old-key` },
        ],
        current: 'new',
      },
    });
  });

  afterAll(() => m?.close());

  it('a copy of the database plus every spent refresh token yields no live one (issue 10, finding 3)', async () => {
    const chain = [await m.tokens.issue('copy.victim')];
    for (let i = 0; i < 4; i++) chain.push(await m.tokens.refresh(chain[chain.length - 1].refreshToken));
    const spent = chain.slice(0, -1).map((pair) => pair.refreshToken);
    const { values, hashes } = await everythingStored(m);
    expect(hashes.size).toBe(chain.length);
    const found: string[] = [];
    for (const token of spent) {
      for (const value of values) {
        for (const guess of guesses(token, value))
          if (hashes.has(sha256(guess))) found.push(`${token.slice(0, 6)}… + ${value.slice(0, 12)}…`);
      }
    }
    expect(found).toEqual([]);
    // The chain itself still works: the newest token refreshes.
    await expect(m.tokens.refresh(chain[chain.length - 1].refreshToken)).resolves.toMatchObject({
      sessionId: chain[0].sessionId,
    });
  });

  it('the successor is HMAC-SHA256 over "row jti \\0 presented token", keyed by HKDF-SHA256 of the last configured key: what every instance and every version derives', async () => {
    // Instances of two releases side by side (a rolling deploy) must hand a retry the
    // same pair: the derivation is part of the stored format, pinned here by node:crypto.
    const first = await m.tokens.issue('successor.vector');
    const row = await m.source
      .getRepository(entities.tokenLog)
      .findOneByOrFail({ tokenHash: sha256(first.refreshToken) });
    const key = Buffer.from(
      hkdfSync(
        'sha256',
        Buffer.from(`${TEST_SECRET}-old-key`),
        Buffer.alloc(0),
        'nestjs-jwt-revocation refresh successor',
        32,
      ),
    );
    const expected = createHmac('sha256', key).update(`${row.jti}\0${first.refreshToken}`).digest('base64url');
    const next = await m.tokens.refresh(first.refreshToken);
    expect(next.refreshToken).toBe(expected);
  });

  it('a retry within the grace window gets the same successor after the current key changed', async () => {
    const first = await m.tokens.issue('grace.rotation');
    const second = await m.tokens.refresh(first.refreshToken);
    // Another instance (or this one after a rotation) signs with another key now.
    m.keys.use('old');
    try {
      const retry = await m.tokens.refresh(first.refreshToken);
      expect(retry.refreshToken).toBe(second.refreshToken);
      expect(retry.jti).toBe(second.jti);
    } finally {
      m.keys.use('new');
    }
  });
});
