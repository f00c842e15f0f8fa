// ESLint (flat config) with the Temporal rules: no floating promises anywhere, and workflow code may import
// neither Node built-ins nor the database, mail or activity implementations (only their types).
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

const NODE_BUILTINS = [
  'fs',
  'path',
  'os',
  'crypto',
  'http',
  'https',
  'net',
  'child_process',
  'stream',
  'util',
  'events',
];

module.exports = tseslint.config(
  {
    // client/src/schema.d.ts is generated (npm run client:generate) and checked against the server instead.
    ignores: [
      'node_modules/**',
      'dist/**',
      '.data/**',
      'coverage/**',
      'bench/results/**',
      'client/dist/**',
      'client/src/schema.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: __dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...NODE_BUILTINS.flatMap((name) => [
              { name, message: 'Workflow code is deterministic: no Node modules.' },
              { name: `node:${name}`, message: 'Workflow code is deterministic: no Node modules.' },
            ]),
            { name: 'knex', message: 'Workflow code does no I/O: use an activity.' },
            { name: 'pg', message: 'Workflow code does no I/O: use an activity.' },
            { name: 'nodemailer', message: 'Workflow code does no I/O: use an activity.' },
          ],
          patterns: [
            {
              group: ['**/src/**', '**/activities/*', '!**/activities'],
              message: 'Workflows import activity and service types only through `import type` of ../../activities.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    // The dashboard: ES modules run by the browser as they are (no build step).
    files: ['src/api/dashboard/**/*.js'],
    rules: { '@typescript-eslint/no-unused-vars': ['error', { caughtErrors: 'none' }] },
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'navigator',
          'fetch',
          'sessionStorage',
          'crypto',
          'console',
          'setTimeout',
          'clearTimeout',
          'Intl',
          'URL',
          'URLSearchParams',
          'Blob',
          'AbortController',
          'Node',
          'getComputedStyle',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    files: ['*.js', 'docker/**/*.mjs', 'docker/**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
        fetch: 'readonly',
        AbortSignal: 'readonly',
      },
    },
  },
);
