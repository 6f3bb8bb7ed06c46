import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['fs', 'path', 'os', 'crypto', 'http', 'https', 'net', 'child_process', 'stream', 'util', 'events', 'url', 'zlib', 'dns', 'tls', 'worker_threads', 'timers', 'process'];
const sideEffectLibs = ['mongoose', 'mongodb', 'twilio', 'nodemailer', 'fastify', 'pino', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'];
const banned = [
  ...nodeBuiltins.flatMap((m) => [m, `node:${m}`]).map((name) => ({ name, message: 'Workflow and domain code must be deterministic and free of I/O: no Node built-ins.' })),
  ...sideEffectLibs.map((name) => ({ name, message: 'Workflow and domain code must not import side-effecting libraries; use activities.', allowTypeImports: true })),
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.tools/**', '.data/**', 'coverage/**', '.scratch-*/**', 'bin/**', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: banned, patterns: [{ group: ['../activities/*', '../store/*', '../api/*', '../workers/*'], allowTypeImports: true, message: 'Import activities and stores by type only.' }] }],
    },
  },
);
