import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import globalSetup from '../harness/global-setup';
import globalTeardown from '../harness/global-teardown';
import { startTestStack, type TestStack } from '../harness/stack';
import { sleep } from '../harness/wait';
import { historyToJson } from './history-json';
import { journeys, journeysWithBusinesses } from './journey-scenarios';
import { campaigns } from './campaign-scenarios';
import { others } from './other-scenarios';
import { journeyScenario, type Recording, type Scenario } from './scenario';

/**
 * Records workflow histories for test/integration/replay.test.ts: starts the same real servers the
 * integration tests use, plays users (API calls, the carrier's inbound messages and taps) and writes
 * each workflow's history to test/histories/<file>.json.
 *
 *   npx tsx test/histories/record.ts                          # scenarios whose file is missing
 *   npx tsx test/histories/record.ts optoutv3-sms-stop-ends-journey campaign-sms-completed
 *
 * A journey file is named after its scenario; every other file starts with its workflow type
 * (journeyv2-, journeyv3-, journeyv4-, optout-, optoutv2-, optoutv3-, optoutv4-, optoutv5-, optoutv6-, inbound-, inthread-, campaign-, tier-, direct-, events-), and
 * replay.test.ts checks the prefix against the type in the history. Unprefixed journey files and
 * optout- and optoutv2- files were recorded before journeys and opt-outs started as their current
 * types: recorded now, those scenarios would be runs of the current type under the wrong name, which
 * that check catches. Re-record when a
 * workflow change is meant to break replay (and ship it behind patched()); the point of the files is that old histories keep replaying against new
 * code, so never re-record one only because it stopped replaying. Some files were recorded by older
 * code and prove a patch's old branch still replays: sms-confirmed and the other unmarked journeys,
 * and every <file>.before-<patch>.json, which record-at.sh writes by running these scenarios against
 * the commit before the patch. Re-recording them now would lose that, so without names only missing
 * files are recorded, and a scenario must still run against the code of those commits.
 */

const scenarios: Record<string, Scenario> = {
  ...Object.fromEntries(Object.entries(journeys).map(([name, recorder]) => [name, journeyScenario(recorder)])),
  ...journeysWithBusinesses,
  ...others,
  ...campaigns,
};

const { EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EVENT_TYPE_WORKFLOW_TASK_STARTED } = temporal.api.enums.v1.EventType;

/** A long-lived run's history once nothing is in flight: two reads 500 ms apart agree and no workflow task is open. */
async function quietHistory(handle: WorkflowHandle): Promise<temporal.api.history.v1.IHistory> {
  let seen = -1;
  for (let i = 0; i < 60; i++) {
    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const last = events[events.length - 1]?.eventType;
    if (events.length === seen && last !== EVENT_TYPE_WORKFLOW_TASK_SCHEDULED && last !== EVENT_TYPE_WORKFLOW_TASK_STARTED) return history;
    seen = events.length;
    await sleep(500);
  }
  throw new Error(`${handle.workflowId} never went quiet`);
}

/** Where files go and what their names end with; see record-at.sh for recording with older code. */
interface Output {
  dir: string;
  /** `before-<patch>`: the file is <name>.before-<patch>.json. */
  label?: string;
}

function fileOf(out: Output, name: string): string {
  return path.join(out.dir, `${name}${out.label ? `.${out.label}` : ''}.json`);
}

async function write(stack: TestStack, out: Output, scenario: string, rec: Recording): Promise<void> {
  const handle = stack.client.workflow.getHandle(rec.workflowId, rec.runId);
  if (rec.until === 'closed') await handle.result();
  const history = rec.until === 'closed' ? await handle.fetchHistory() : await quietHistory(handle);
  const { status, type } = await handle.describe();
  const file = fileOf(out, rec.file || scenario);
  writeFileSync(file, `${JSON.stringify(historyToJson(history), null, 1)}\n`);
  process.stdout.write(`${path.basename(file)}: ${type} ${status.name}, ${history.events?.length ?? 0} events -> ${file}\n`);
}

function usage(): string {
  return [
    'usage: npx tsx test/histories/record.ts [--out <dir>] [--label before-<patch>] [scenario ...]',
    '  without scenarios, records those whose file is missing in <dir> (default test/histories)',
    '  --out    where the files go',
    '  --label  names files <scenario>.<label>.json (record-at.sh uses it for before-<patch> files)',
    `scenarios: ${Object.keys(scenarios).join(', ')}`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values, positionals: wanted } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' }, label: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(usage());
    return;
  }
  const out: Output = { dir: path.resolve(values.out ?? __dirname), label: values.label };
  const unknown = wanted.filter((n) => !(n in scenarios));
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}`);
  const names = wanted.length ? wanted : Object.keys(scenarios).filter((name) => !existsSync(fileOf(out, name)));
  // One stack per businesses file: each scenario gets the limits it was written for.
  const byBusinesses = new Map<Scenario['businessesFile'], string[]>();
  for (const name of names) byBusinesses.set(scenarios[name].businessesFile, [...(byBusinesses.get(scenarios[name].businessesFile) ?? []), name]);

  await globalSetup();
  try {
    for (const [businessesFile, group] of byBusinesses) {
      const stack = await startTestStack({ prefix: 'record', businessesFile: typeof businessesFile === 'function' ? businessesFile() : businessesFile });
      try {
        for (const name of group) {
          for (const rec of await scenarios[name].record(stack)) await write(stack, out, name, rec);
        }
      } finally {
        await stack.close();
      }
    }
  } finally {
    await globalTeardown();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`recording failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
