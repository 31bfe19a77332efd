// Jest's test runner (jest-circus) for the mutation run (jest.mutation.config.js), with bail.
// Stryker accepts only a jest-circus runner for its per-test coverage: hence the name.
//
// A mutant is killed by its first failing test, and Stryker asks for nothing more
// (its disableBail is off), but its Jest runner cannot pass --bail (Jest's bail ends
// the process). So once a test has failed while a mutant is active, the spec files
// left in that run are not loaded: each reports one skipped test instead (Jest
// refuses a file without tests). mutation-environment.cjs skips the tests left in
// the file that failed. Stryker sets __STRYKER_ACTIVE_MUTANT__ for a mutant run only:
// its first run, and any Jest run outside Stryker, run every test.
const circusModule = require('jest-circus/runner');
const circus = circusModule.default ?? circusModule;
const { createEmptyTestResult } = require('@jest/test-result');
const { runState } = require('./mutation-run-state.cjs');

module.exports = async function mutationRunner(globalConfig, config, environment, runtime, testPath, send) {
  if (process.env.__STRYKER_ACTIVE_MUTANT__ === undefined || !runState().failed) {
    return circus(globalConfig, config, environment, runtime, testPath, send);
  }
  const title = 'not run: an earlier test killed the mutant';
  return {
    ...createEmptyTestResult(),
    testFilePath: testPath,
    numPendingTests: 1,
    testResults: [
      {
        ancestorTitles: [],
        duration: 0,
        failureDetails: [],
        failureMessages: [],
        fullName: title,
        invocations: 0,
        location: null,
        numPassingAsserts: 0,
        retryReasons: [],
        status: 'pending',
        title,
      },
    ],
  };
};
