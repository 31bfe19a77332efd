// Jest's node environment for the mutation run (jest.mutation.config.js).
//
// Stryker's first run records which tests reach each mutant, from the test's start
// to its end. The suites boot their apps in beforeAll, so most of the library runs
// in a hook, outside any test: Stryker would call such a mutant "static" and run
// every test on it. Here what a beforeAll or afterAll reaches counts for each test
// of its describe block, which is what runs that hook again in a mutant run. Code
// that runs while a spec file loads stays static.
//
// And once a test has failed while a mutant is active, the tests left in its file
// are skipped, with their hooks (mutation-jest-circus.cjs skips the files left).
const { TestEnvironment } = require('jest-environment-node');
const { runState } = require('./mutation-run-state.cjs');

const IN_HOOK = 'mutation-environment: in a beforeAll or afterAll hook';
const isAllHook = (hook) => hook.type === 'beforeAll' || hook.type === 'afterAll';

// Stryker's name of a test (its jest-runner, mixin-jest-environment).
function describeName(block) {
  return block.parent ? `${describeName(block.parent)} ${block.name}`.trimStart() : '';
}
const testName = (test) => `${describeName(test.parent)} ${test.name}`.trimStart();

function testsIn(block, found = []) {
  for (const child of block.children) {
    if (child.type === 'test') found.push(child);
    else testsIn(child, found);
  }
  return found;
}

class MutationEnvironment extends TestEnvironment {
  async handleTestEvent(event, state) {
    await super.handleTestEvent?.(event, state);
    if (process.env.__STRYKER_ACTIVE_MUTANT__ === undefined) this.recordHooks(event);
    else this.bail(event);
  }

  /** Stryker's first run: hits inside a beforeAll or afterAll go to the tests of its block. */
  recordHooks(event) {
    const stryker = this.global[this.global.__strykerGlobalNamespace__ ?? '__stryker__'];
    if (!stryker || !event.hook || !isAllHook(event.hook)) return;
    if (event.name === 'hook_start') {
      stryker.currentTestId = IN_HOOK;
    } else if (event.name === 'hook_success' || event.name === 'hook_failure') {
      stryker.currentTestId = undefined;
      const perTest = stryker.mutantCoverage?.perTest;
      const hits = perTest?.[IN_HOOK];
      if (!hits) return;
      delete perTest[IN_HOOK];
      for (const test of testsIn(event.hook.parent)) {
        const counts = (perTest[testName(test)] ??= {});
        for (const [mutant, count] of Object.entries(hits)) counts[mutant] = (counts[mutant] ?? 0) + count;
      }
    }
  }

  /** A mutant run: after the first failure, skip the tests left in this file. */
  bail(event) {
    const run = runState();
    if (event.name === 'test_start' && run.failed) event.test.mode = 'skip';
    else if (event.name === 'test_done' && event.test.errors.length > 0) run.failed = true;
  }
}

module.exports = MutationEnvironment;
