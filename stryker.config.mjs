// @ts-check
// Mutation testing (npm run test:mutation): StrykerJS changes the code under test one
// mutant at a time and runs the Jest suites that cover it; a mutant that no test
// notices has survived. The report: reports/mutation/index.html, and a table on stdout.
// `npm run test:mutation -- --incremental` reuses reports/stryker-incremental.json: only
// the mutants of changed code, or covered by changed tests, run again (minutes, not an hour).

// SQLite only. The workers run at once, and the suites drop and recreate their tables:
// on the PostgreSQL or MariaDB database of TEST_*_URL they would wipe each other's.
// Without those variables CI would fail the suites that need them, so it goes too.
for (const name of ['CI', 'TEST_POSTGRES_URL', 'TEST_MYSQL_URL', 'TEST_REDIS_URL']) delete process.env[name];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  // The request path, the revocation state and claims, the key ring, refresh
  // rotation and the TypeORM store.
  mutate: [
    'lib/request/revocable-jwt.guard.ts',
    'lib/request/revocable-jwt.strategy.ts',
    'lib/request/token-extractor.ts',
    'lib/revocation/revocation-state.ts',
    'lib/revocation/expiring-set.ts',
    'lib/tokens/token-claims.ts',
    'lib/tokens/token-codec.ts',
    'lib/tokens/key-ring.ts',
    'lib/tokens/refresh-rotation.ts',
    'lib/tokens/refresh-successor.ts',
    'lib/storage/typeorm/typeorm-token.store.ts',
    'lib/storage/typeorm/typeorm-rotation.ts',
    'lib/storage/typeorm/revocation-rows.ts',
    'lib/storage/typeorm/typeorm-reads.ts',
  ],
  testRunner: 'jest',
  jest: { configFile: 'jest.mutation.config.js' },
  // Jest runs ES modules only behind this flag (see README "Tests").
  testRunnerNodeArgs: ['--experimental-vm-modules'],
  // Each mutant runs only the tests that reached it in the first, instrumented run.
  coverageAnalysis: 'perTest',
  // ts-jest transpiles without the type checker (jest.mutation.config.js), so a mutant
  // that breaks a type is not "killed" by a compile error: it runs, and a test must see it.
  concurrency: 2,
  // Jest in ESM mode keeps what every run loaded: a fresh worker now and then stays quick.
  maxTestRunnerReuse: 25,
  // The suites boot Nest apps on SQLite files: slow to start, and two workers share two cores.
  timeoutMS: 20000,
  timeoutFactor: 3,
  // json: scripts/mutation-table.mjs prints the README's table from it.
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // What the sandbox copy of the checkout leaves out (node_modules is linked, not copied).
  ignorePatterns: ['dist', 'build', 'data', 'coverage', 'reports', 'bench/results', 'test/consumers'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
