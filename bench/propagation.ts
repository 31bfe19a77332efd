/**
 * Scenario 5: how long a revocation on instance A takes to be enforced on
 * instance B, per propagation mode: two sample processes on one PostgreSQL
 * (plus Redis for that mode), a logout on A, then B polled until it answers
 * 401. Measured from A's 204 to B's first 401.
 */
import { randomBytes } from 'node:crypto';
import { startSampleProcess, type SampleProcess } from './sample-process.js';

export interface PropagationFigures {
  mode: string;
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvw';

async function call(base: string, method: string, path: string, body?: unknown, token?: string) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function once(a: SampleProcess, b: SampleProcess, user: { username: string; password: string }): Promise<number> {
  const token = (await call(a.url, 'POST', '/auth/login', user)).body.accessToken as string;
  if ((await call(b.url, 'GET', '/me', undefined, token)).status !== 200) throw new Error('B refused a fresh token');
  const logout = await call(a.url, 'POST', '/auth/logout', undefined, token);
  if (logout.status !== 204) throw new Error(`logout answered ${logout.status}`);
  const revokedAt = performance.now();
  for (;;) {
    if ((await call(b.url, 'GET', '/me', undefined, token)).status === 401) return performance.now() - revokedAt;
    if (performance.now() - revokedAt > 60_000) throw new Error('B never enforced the revocation');
  }
}

export async function propagationScenario(
  root: string,
  mode: 'redis' | 'notify' | 'poll',
  env: { DATABASE_URL: string; REDIS_URL?: string; SYNC_INTERVAL: string },
  samples: number,
): Promise<PropagationFigures> {
  const vars: Record<string, string> = {
    JWT_SECRET: SECRET,
    PROPAGATION: mode,
    DATABASE_URL: env.DATABASE_URL,
    SYNC_INTERVAL: env.SYNC_INTERVAL,
  };
  if (mode === 'redis' && env.REDIS_URL) vars.REDIS_URL = env.REDIS_URL;
  const a = await startSampleProcess(vars, root);
  const b = await startSampleProcess(vars, root);
  try {
    const user = { username: `bench_${randomBytes(4).toString('hex')}`, password: 'propagation bench' };
    if ((await call(a.url, 'POST', '/auth/register', user)).status !== 201) throw new Error('register failed');
    const latencies: number[] = [];
    for (let i = 0; i < samples; i++) latencies.push(await once(a, b, user));
    latencies.sort((x, y) => x - y);
    const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
    return { mode, samples, p50: at(50), p99: at(99), max: latencies[latencies.length - 1] };
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}
