import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A free loopback port: bind 0, read it, let it go. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface SampleProcess {
  url: string;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * The built sample app (`npm run build:sample`) in its own process, as an
 * operator would run one instance of several; the multi-instance tests and the
 * propagation benchmark both use it. Resolves once it listens.
 */
export async function startSampleProcess(env: Record<string, string>, root: string): Promise<SampleProcess> {
  const port = await freePort();
  const main = `${root}/build/sample/main.js`;
  let log = '';
  const child: ChildProcess = spawn(process.execPath, [main], {
    env: { ...process.env, NO_COLOR: '1', PORT: String(port), AUTH_RATE_LIMIT: '100000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  while (!log.includes('listening on')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sample did not start:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    output: () => log,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
