import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * The lint guard that keeps I/O out of workflows and domain code, checked against the repository's own
 * eslint.config.mjs: a value import of activities/, store/, api/, services/ or workers/ fails at any
 * folder depth, a type import passes, and so do imports between workflow and domain modules.
 */

interface Snippet {
  filePath: string;
  code: string;
  guarded: boolean;
}

const valueImport = (from: string) => `import * as io from '${from}';\nexport const use = io;\n`;
const typeImport = (from: string) => `import type * as io from '${from}';\nexport type Use = typeof io;\n`;

const places = [
  { filePath: 'workflows/x.ts', up: '../' },
  { filePath: 'workflows/journey/x.ts', up: '../../' },
  { filePath: 'workflows/campaign/steps/x.ts', up: '../../../' },
  { filePath: 'domain/x.ts', up: '../' },
];
const ioModules = ['activities/channel', 'store/models', 'api/app', 'services/journeys', 'workers/worker'];

const snippets: Record<string, Snippet> = {};
for (const { filePath, up } of places) {
  for (const target of ioModules) {
    snippets[`${filePath} importing ${up}${target} by value`] = { filePath, code: valueImport(`${up}${target}`), guarded: true };
    snippets[`${filePath} importing ${up}${target} by type`] = { filePath, code: typeImport(`${up}${target}`), guarded: false };
  }
}
for (const name of ['node:fs', 'fs', 'node:test', 'mongoose', 'twilio', '@temporalio/client', '@temporalio/activity']) {
  snippets[`workflows/journey/x.ts importing ${name} by value`] = { filePath: 'workflows/journey/x.ts', code: valueImport(name), guarded: true };
}
snippets['workflows/journey/x.ts importing ../activity-options and ../../domain/keywords by value'] = {
  filePath: 'workflows/journey/x.ts',
  code: `import * as options from '../activity-options';\nimport * as keywords from '../../domain/keywords';\nexport const use = [options, keywords];\n`,
  guarded: false,
};
snippets['workers/x.ts importing ../activities/channel by value'] = { filePath: 'workers/x.ts', code: valueImport('../activities/channel'), guarded: false };

/**
 * ESLint loads its ESM config with a dynamic import, which jest's module sandbox cannot run: the snippets
 * are linted in one plain Node process. They are not files of the tsconfig project, so the type-aware
 * rules (which need one) are off for them.
 */
const lintSnippets = `
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
const snippets = JSON.parse(await new Response(process.stdin).text());
const eslint = new ESLint({ overrideConfig: tseslint.configs.disableTypeChecked });
const messages = [];
for (const { filePath, code } of snippets) {
  const [result] = await eslint.lintText(code, { filePath });
  messages.push(result.messages.map((m) => ({ ruleId: m.ruleId, message: m.message })));
}
process.stdout.write(JSON.stringify(messages));
`;

let messagesOf: Record<string, Array<{ ruleId: string | null; message: string }>>;

beforeAll(() => {
  const names = Object.keys(snippets);
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', lintSnippets], {
    cwd: path.join(__dirname, '..', '..'),
    input: JSON.stringify(names.map((name) => snippets[name])),
    encoding: 'utf8',
  });
  const messages = JSON.parse(out) as Array<Array<{ ruleId: string | null; message: string }>>;
  messagesOf = Object.fromEntries(names.map((name, i) => [name, messages[i]]));
}, 60_000);

test.each(Object.keys(snippets).filter((name) => snippets[name].guarded))('%s is a lint error', (name) => {
  expect(messagesOf[name]).toEqual([{ ruleId: '@typescript-eslint/no-restricted-imports', message: expect.any(String) }]);
});

test.each(Object.keys(snippets).filter((name) => !snippets[name].guarded))('%s passes', (name) => {
  expect(messagesOf[name]).toEqual([]);
});
