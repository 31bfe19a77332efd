import type { INestApplication } from '@nestjs/common';
import type { TokenRecord } from 'nestjs-jwt-revocation';
import { jwtRevocationEntitySet } from 'nestjs-jwt-revocation/testing';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';

/** Token-log rows straight from an app's database (its default data source), for tests that check what was written. */

/** What the token log stores of a refresh token: its SHA-256, in hex. */
export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const tokenLog = (app: INestApplication) => app.get(DataSource).getRepository(jwtRevocationEntitySet().tokenLog);

/** Every token-log row of a session. */
export function rowsOf(app: INestApplication, sessionId: string): Promise<TokenRecord[]> {
  return tokenLog(app).find({ where: { sessionId } });
}

/** Refresh rows that can still be exchanged: neither spent nor revoked. Exactly one means one live chain. */
export async function liveRefreshRows(app: INestApplication, sessionId: string): Promise<TokenRecord[]> {
  return (await rowsOf(app, sessionId)).filter(
    (r) => r.tokenType === 'refresh' && r.spentAt === null && r.revokedAt === null,
  );
}

/** The row of a refresh token; throws when there is none. */
export async function refreshRowOf(app: INestApplication, refreshToken: string): Promise<TokenRecord> {
  const row = await tokenLog(app).findOne({ where: { tokenHash: sha256(refreshToken), tokenType: 'refresh' } });
  if (!row) throw new Error('refresh token has no row');
  return row;
}

/**
 * Moves a spent refresh token's spend `ms` into the past in the database, so
 * that presenting it now is a replay that long after its spend: the grace
 * window is passed without the test waiting it out.
 */
export async function backdateSpend(app: INestApplication, refreshToken: string, ms: number): Promise<void> {
  const row = await refreshRowOf(app, refreshToken);
  if (row.spentAt === null) throw new Error('refresh token is not spent');
  await tokenLog(app).update({ jti: row.jti }, { spentAt: row.spentAt - ms });
}
