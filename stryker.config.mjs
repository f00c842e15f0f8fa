// Mutation testing of the money core (`npm run test:mutation`; README "Mutation testing").
// Only the fast unit tests (test/unit) run against mutants: no servers. One runner, as the machine is shared.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: [
    'workflows/domain/money.ts',
    'workflows/domain/credits.ts',
    'workflows/domain/periods.ts',
    'workflows/domain/plans.ts',
    'workflows/member-credits/state.ts',
    'src/api/views.ts:10-17', // parseAmount only; the rest of the file is JSON shapes
  ],
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.js',
    config: { roots: ['<rootDir>/test/unit'] },
  },
  checkers: ['typescript'],
  // Only the mutated files (and what they import): a mutant is type-checked where it is, not in every file that
  // imports it. Checking the whole project made the checker the bottleneck (the test runner waited for it).
  tsconfigFile: 'tsconfig.mutation.json',
  coverageAnalysis: 'perTest',
  concurrency: 1,
  // A busy machine slows the tests of a healthy mutant too: only a clear hang counts as a timeout.
  timeoutMS: 20_000,
  timeoutFactor: 3,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  ignorePatterns: ['.data', 'dist', 'coverage', 'bench/results'],
  tempDirName: '.stryker-tmp',
};
