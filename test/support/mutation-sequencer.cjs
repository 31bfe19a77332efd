// Jest's test sequencer for the mutation run (jest.mutation.config.js).
//
// Stryker runs each mutant with a --testNamePattern naming the tests that reached it
// in its first run. Jest would still load every spec file related to the mutated
// file (nearly all of them: lib/index.ts imports everything), boot nothing in most,
// and report their tests as skipped: half a minute per mutant on this suite. This
// sequencer drops the files where no test matches the pattern, which Jest would
// have skipped anyway, and runs the quickest files first: the first failure ends the
// run (mutation-jest-circus.cjs).
//
// It learns each file's test names from the results of Stryker's first run, kept in
// Jest's cache directory under a name of the sandbox. A file it has not seen, or a run
// without a pattern, keeps every file.
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { newRun } = require('./mutation-run-state.cjs');

class MutationSequencer {
  constructor({ contexts, globalConfig }) {
    newRun();
    this.globalConfig = globalConfig;
    const config = contexts[0].config;
    const id = createHash('sha256').update(config.rootDir).digest('hex').slice(0, 16);
    this.directory = config.cacheDirectory;
    this.file = join(config.cacheDirectory, `mutation-test-names-${id}.json`);
  }

  read() {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8'));
    } catch {
      return {};
    }
  }

  sort(tests) {
    const known = this.read();
    const pattern = this.globalConfig.testNamePattern;
    const matches = pattern ? new RegExp(pattern, 'i') : undefined;
    const kept = tests.filter((test) => {
      const names = known[test.path]?.names;
      return !matches || !names || names.some((name) => matches.test(name));
    });
    const duration = (test) => known[test.path]?.duration ?? Number.MAX_SAFE_INTEGER;
    return kept.sort((a, b) => duration(a) - duration(b));
  }

  cacheResults(_tests, results) {
    // Stryker's first run, without a mutant, runs every test: after it, a file may have
    // skipped the tests that were not run (mutation-jest-circus.cjs).
    if (process.env.__STRYKER_ACTIVE_MUTANT__ !== undefined) return;
    const known = this.read();
    let changed = false;
    for (const file of results.testResults) {
      // A file that failed to load reports no tests: it keeps what an earlier run saw.
      if (file.testResults.length === 0) continue;
      const names = file.testResults.map((test) => test.fullName);
      const duration = file.perfStats.runtime ?? file.perfStats.end - file.perfStats.start;
      const before = known[file.testFilePath];
      if (!before || before.names.length !== names.length || names.some((name, i) => name !== before.names[i])) {
        known[file.testFilePath] = { names, duration };
        changed = true;
      }
    }
    if (!changed) return;
    // Two Stryker workers may write at once: a whole file, renamed into place.
    mkdirSync(this.directory, { recursive: true });
    const partial = `${this.file}.${process.pid}`;
    writeFileSync(partial, JSON.stringify(known));
    renameSync(partial, this.file);
  }

  allFailedTests(tests) {
    return tests;
  }
}

module.exports = MutationSequencer;
