// Jest's node environment for the mutation run (jest.mutation.config.js): once a test
// has failed while a mutant is active, the tests left in its file are skipped, with
// their hooks (see mutation-jest-circus.cjs for the files left after it).
const { TestEnvironment } = require('jest-environment-node');
const { runState } = require('./mutation-run-state.cjs');

class MutationEnvironment extends TestEnvironment {
  async handleTestEvent(event, state) {
    await super.handleTestEvent?.(event, state);
    if (process.env.__STRYKER_ACTIVE_MUTANT__ === undefined) return;
    const run = runState();
    if (event.name === 'test_start' && run.failed) event.test.mode = 'skip';
    else if (event.name === 'test_done' && event.test.errors.length > 0) run.failed = true;
  }
}

module.exports = MutationEnvironment;
