import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_'));
const sideEffectLibs = ['mongoose', 'mongodb', 'twilio', 'nodemailer', 'fastify', 'pino', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'];
// The code that does I/O lives in these folders; workflows and domain may name its types, never run it.
const ioFolders = ['activities', 'store', 'api', 'services', 'workers'];

const workflowImportRules = {
  paths: [
    ...nodeBuiltins.map((name) => ({ name, message: 'Workflow and domain code must be deterministic and free of I/O: no Node built-ins.' })),
    ...sideEffectLibs.map((name) => ({ name, message: 'Workflow and domain code must not import side-effecting libraries; use activities.', allowTypeImports: true })),
  ],
  patterns: [
    { group: ['node:*'], message: 'Workflow and domain code must be deterministic and free of I/O: no Node built-ins.' },
    // A relative import at any depth: `../activities/x` from workflows/, `../../activities/x` from workflows/journey/.
    { regex: `^(\\.{1,2}/)+(.+/)?(${ioFolders.join('|')})(/|$)`, allowTypeImports: true, message: `Workflow and domain code imports ${ioFolders.join('/, ')}/ by type only.` },
  ],
};

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
    // Type-aware rules need the program; only .ts files are in tsconfig.json.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  {
    // CommonJS entry points Node loads as they are (the worker's workflow thread): require and module are theirs.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', workflowImportRules],
    },
  },
);
