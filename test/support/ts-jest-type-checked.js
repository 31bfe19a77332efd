// ts-jest, offered to Jest through its async entry points only.
//
// Jest 30 loads an ES module through a transformer's synchronous `process` when
// it has one, and ts-jest 29 drops the type checker's diagnostics on that path
// in ESM mode (it raises them only from `processAsync`). Without `process`, Jest
// takes `processAsync`, and a type error in a spec or in what it imports fails
// that spec. Every file here is an ES module, so nothing needs the sync path.
import { TsJestTransformer } from 'ts-jest';

export default {
  createTransformer(options) {
    const transformer = new TsJestTransformer(options);
    return {
      canInstrument: transformer.canInstrument,
      getCacheKey: transformer.getCacheKey.bind(transformer),
      getCacheKeyAsync: transformer.getCacheKeyAsync.bind(transformer),
      processAsync: transformer.processAsync.bind(transformer),
    };
  },
};
