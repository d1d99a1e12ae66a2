// Nest 12 and some of its dependencies ship ESM only; Jest on Node 20 runs CommonJS, so
// swc compiles those packages too (see DESIGN.md, "Stack facts").
const esmPackages = ['@nestjs', 'file-type', 'strtok3', 'token-types', 'uint8array-extras', '@tokenizer', 'load-esm'];
const swc = ['@swc/jest', {
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
  },
  module: { type: 'commonjs' },
}];
module.exports = {
  testEnvironment: 'node',
  rootDir: '.',
  roots: ['<rootDir>/libs', '<rootDir>/src', '<rootDir>/test', '<rootDir>/examples', '<rootDir>/docs'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
  moduleNameMapper: {
    '^nestjs-tasker$': '<rootDir>/libs/tasker/src/index.ts',
    '^nestjs-tasker/admin$': '<rootDir>/libs/tasker/src/admin/index.ts',
    '^nestjs-tasker/testing$': '<rootDir>/libs/tasker/src/testing/index.ts',
  },
  testTimeout: 60_000,
};
