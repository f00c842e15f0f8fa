/**
 * Jest runs TypeScript through ts-jest; type checking is a separate `tsc --noEmit` step of `npm test`.
 * The fault-injection suite (test/faults) runs only under `npm run test:faults` (AI_CREDITS_FAULTS=1).
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...(process.env.AI_CREDITS_FAULTS ? [] : ['/test/faults/'])],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  testTimeout: 60_000,
  maxWorkers: 2,
};
