// What mutation-sequencer.cjs and mutation-environment.cjs share about one Jest run.
// Stryker runs Jest in band, again and again in one process: the sequencer starts a
// new state for each run, and the environment reads it from every spec file.
const key = Symbol.for('nestjs-jwt-revocation.mutation-run');

/** The state of the current run: `failed` once one of its tests has failed. */
exports.runState = () => (globalThis[key] ??= { failed: false });

exports.newRun = () => {
  globalThis[key] = { failed: false };
};
