import 'reflect-metadata';
import { Controller, Get, UseGuards } from '@nestjs/common';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { CurrentSubject, RevocableJwtGuard, type JwtRevocationModuleOptions } from 'nestjs-jwt-revocation';
import type { RevocationSync } from 'nestjs-jwt-revocation/testing';
import { startGuardApp } from './guard-app.js';
import { TEST_SECRET } from './keys.js';
import { startProxy, type TcpProxy } from './tcp-proxy.js';
import type { RunningTestApp } from './test-app.js';
import { sleep, within } from './time.js';

/** Helpers of the suites that stall a database or Redis behind a proxy (test/e2e/stalled-*.e2e-spec.ts). */

@Controller('me')
@UseGuards(RevocableJwtGuard)
class MeController {
  @Get()
  me(@CurrentSubject() sub: string) {
    return { sub };
  }
}

/** The module on `database`, and one guarded route, GET /me. */
export function guardedApp(
  database: TypeOrmModuleOptions,
  options: Partial<JwtRevocationModuleOptions>,
): Promise<RunningTestApp> {
  const moduleOptions = {
    signing: { secret: TEST_SECRET },
    archiveInterval: 0,
    ...options,
  } as JwtRevocationModuleOptions;
  return startGuardApp(moduleOptions, { database, controllers: [MeController] });
}

export interface Reply {
  status: number | 'hung';
  body: Record<string, unknown>;
  ms: number;
}

/** GET /me with the token; a request that takes longer than `hungMs` is reported as hung rather than awaited. */
export async function getMe(app: RunningTestApp, token: string, hungMs = 8000): Promise<Reply> {
  const { port } = app.app.getHttpServer().address() as { port: number };
  const started = Date.now();
  try {
    const res = await fetch(`http://127.0.0.1:${port}/me`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(hungMs),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {}, ms: Date.now() - started };
  } catch {
    return { status: 'hung', body: {}, ms: Date.now() - started };
  }
}

/** GET /me with the token until it answers `status`; returns how long that took. */
export function untilStatus(app: RunningTestApp, token: string, status: number, ms: number): Promise<number> {
  return within(
    ms,
    () => getMe(app, token),
    (reply) => reply.status === status,
    (reply) => `${reply.status}`,
  );
}

/** Until the bus says it is connected (`true`) or not (`false`). */
export function untilBus(sync: RevocationSync, connected: boolean, ms: number): Promise<number> {
  return within(
    ms,
    () => sync.status().busConnected,
    (seen) => seen === connected,
  );
}

/** Stalls the proxy until the bus notices, lets a reconnection or two fail against the stall, then lets connections through again. */
export async function stallUntilNoticed(proxy: TcpProxy, sync: RevocationSync, ms: number): Promise<void> {
  proxy.stall();
  try {
    await untilBus(sync, false, ms);
    await sleep(2000);
  } finally {
    proxy.restore();
  }
}

/** Closes the app; a close that hangs is reported, and does not hide what the test found. */
export async function closeWithin(app: RunningTestApp, ms = 10_000): Promise<void> {
  const closed = await Promise.race([
    app.close().then(
      () => true,
      () => true,
    ),
    sleep(ms).then(() => false),
  ]);
  if (!closed) console.warn(`app.close() did not finish within ${ms} ms`);
}

/** A proxy in front of the server a URL names, and the same URL through it. */
export async function proxyFor(url: string): Promise<{ proxy: TcpProxy; url: string }> {
  const u = new URL(url);
  const defaults: Record<string, number> = {
    'postgres:': 5432,
    'postgresql:': 5432,
    'mysql:': 3306,
    'mariadb:': 3306,
    'redis:': 6379,
  };
  const proxy = await startProxy(u.hostname, Number(u.port || defaults[u.protocol]));
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return { proxy, url: u.toString() };
}
