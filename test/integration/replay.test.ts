import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { DefaultLogger, Runtime, Worker, type ReplayResult } from '@temporalio/worker';
import { historyFromJson } from '../histories/history-json';
import { patchesIn, recorded } from '../histories/recorded';
import { testWorkflowBundle } from '../harness/servers';

/**
 * Histories recorded by test/histories/record.ts must replay against the workflow code as it is now:
 * a change that would break running workflows fails here (ship it behind patched() instead). Every
 * workflow type the worker registers has at least one; journeyWorkflow files are named after their
 * scenario, the others (the newer journey types too) start with their type.
 */

jest.setTimeout(60_000);

Runtime.install({ logger: new DefaultLogger('WARN') });

const journeys = recorded.filter((h) => h.workflowType === 'journeyWorkflow');

/** The file-name prefix of each workflow type's histories; a file with none of them is a journey's. */
const PREFIXES: Record<string, string> = {
  'journeyv2-': 'journeyWorkflowV2',
  'journeyv3-': 'journeyWorkflowV3',
  'journeyv4-': 'journeyWorkflowV4',
  'journeyv5-': 'journeyWorkflowV5',
  'optout-': 'optOutWorkflow',
  'optoutv2-': 'optOutWorkflowV2',
  'optoutv3-': 'optOutWorkflowV3',
  'optoutv4-': 'optOutWorkflowV4',
  'optoutv5-': 'optOutWorkflowV5',
  'optoutv6-': 'optOutWorkflowV6',
  'inbound-': 'inboundMessageWorkflow',
  'inthread-': 'categoryChoiceWorkflow',
  'campaign-': 'campaignWorkflow',
  'tier-': 'whatsappTierWorkflow',
  'direct-': 'directConsentWorkflow',
  'events-': 'eventDeliveryWorkflow',
};

/**
 * Every patch the workflow code calls, with the histories that hold each of its branches in place.
 * `before` were recorded by code from before the patch (test/histories/record-at.sh) and reach a
 * point where the branches issue different commands, so they fail once the old branch is dropped
 * (or the patch deprecated); `after` carry its marker, so they fail if the new branch is dropped or
 * patched() removed without deprecatePatch first. A patch may be deprecated only once no open run
 * lacks its marker, and removed only once no open run lacks deprecatePatch's marker either.
 * `unguarded` says why no recorded history tells the old branch from the new.
 */
const PATCHES: Record<string, { before: string[]; after: string[]; unguarded?: string }> = {
  'journey-early-provider-reports': {
    // sms-confirmed and the other journeys recorded before it replay the same either way.
    before: [],
    after: ['ivr-unanswered-then-sms', 'sms-confirmed-local-steps'],
    unguarded: 'the branches differ only when a failed delivery or an unanswered call is reported before the send returns, a race record.ts cannot bring about',
  },
  'store-steps-local': {
    before: [
      'sms-confirmed',
      'sms-expired-reminders',
      'email-confirmed-narrowed',
      'failed-then-cancelled',
      'ivr-unanswered-then-sms',
      'whatsapp-opted-out',
      'optout-sms-stop-ends-journey.before-store-steps-local',
      'inbound-yes-to-journey.before-store-steps-local',
      'inbound-start-asks-categories.before-store-steps-local',
      'inbound-start-resumes-messaging.before-store-steps-local',
      'inbound-start-resumes-then-asks.before-store-steps-local',
      'inthread-sms-choice-confirmed.before-store-steps-local',
      'inthread-whatsapp-choice-after-resume.before-store-steps-local',
      'direct-offline-consent.before-store-steps-local',
    ],
    after: [
      'sms-confirmed-local-steps',
      'optout-sms-stop-ends-journey',
      'inbound-yes-to-journey',
      'inbound-start-asks-categories',
      'inbound-start-resumes-messaging',
      'inbound-start-resumes-then-asks',
      'inthread-sms-choice-confirmed',
      'inthread-whatsapp-choice-after-resume',
      'direct-offline-consent',
    ],
  },
  'inbound-start-asks-categories': {
    // START with nothing running, and START after STOP with nothing to restore: its two calls.
    before: ['inbound-start-asks-categories.before-inbound-start-asks-categories', 'inbound-start-resumes-then-asks.before-inbound-start-asks-categories'],
    after: ['inbound-start-asks-categories', 'inbound-start-resumes-then-asks'],
  },
  'journey-lean-start': {
    // Every journey recorded before it began with a beginJourney step; the inbound workflows start journeys but never call it.
    before: ['sms-confirmed-local-steps', 'ivr-unanswered-then-sms', 'sms-expired-reminders', 'email-confirmed-narrowed'],
    after: ['sms-confirmed-lean-start'],
  },
  'journey-quiet-hours': {
    before: [],
    after: ['sms-deferred-quiet-hours'],
    unguarded: 'the branches differ only when a send answers deferred, which the send activity does only for a run that asks it to check: every journey recorded before the patch replays the same either way',
  },
  'campaign-shared-whatsapp-tier': {
    // Only a campaign that ran into the tier: campaign-whatsapp-shared-tier.before-… stays under it and replays the same either way.
    before: ['campaign-whatsapp-over-tier.before-campaign-shared-whatsapp-tier'],
    after: ['campaign-whatsapp-shared-tier', 'campaign-whatsapp-over-tier'],
  },
  'campaign-batch-spans-windows': {
    // Twelve rows at ten a second: one batch per window before (and a timer between), one batch of two groups after.
    before: ['campaign-sms-paced.before-campaign-batch-spans-windows'],
    after: ['campaign-sms-paced'],
  },
  'campaign-batch-waits-for-window': {
    // Fifty-two rows at ten a second: a timer to the next window before; after, a shorter timer and a batch that waits out the rest.
    before: ['campaign-sms-paced-batches.before-campaign-batch-waits-for-window', 'campaign-sms-paced'],
    after: ['campaign-sms-paced-batches'],
  },
  'campaign-batches-chain': {
    // A timer between batches before; after, the next batch in the same task, and a 1 ms timer once an update is answered.
    before: ['campaign-sms-paced-batches.before-campaign-batches-chain', 'campaign-sms-paused-chain.before-campaign-batches-chain'],
    after: ['campaign-sms-paced-batches', 'campaign-sms-paused-chain'],
  },
};

/** The patch ids the workflow code calls patched() with, string literals or constants of workflows/. */
function patchIdsInWorkflowCode(): string[] {
  const dir = path.join(__dirname, '..', '..', 'workflows');
  const sources = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(path.join(dir, f), 'utf8'));
  const code = sources.join('\n');
  const constants = new Map([...code.matchAll(/const (\w+) = '([^']+)'/g)].map((m) => [m[1], m[2]]));
  return [...new Set([...code.matchAll(/\bpatched\(([^)]*)\)/g)].map((m) => {
    const arg = m[1].trim();
    const id = /^'([^']+)'$/.exec(arg)?.[1] ?? constants.get(arg);
    if (!id) throw new Error(`patched(${arg}): not a string literal nor a constant of workflows/`);
    return id;
  }))].sort();
}

async function replay(histories: Array<{ workflowId: string; json: { events: any[] } }>): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  const iterable = histories.map((h) => ({ workflowId: h.workflowId, history: historyFromJson(h.json) }));
  for await (const result of Worker.runReplayHistories({ workflowBundle: testWorkflowBundle() }, iterable)) results.push(result);
  return results;
}

test('every recorded journey replays against the current workflow code', async () => {
  const results = await replay(journeys);
  expect(results.map((r) => r.workflowId)).toEqual(journeys.map((h) => h.workflowId));
  expect(results.map((r) => ({ workflowId: r.workflowId, error: r.error ? String(r.error) : undefined }))).toEqual(journeys.map((h) => ({ workflowId: h.workflowId, error: undefined })));
});

test('every workflow type the worker registers has a recorded history', async () => {
  const registered = Object.keys(await import('../../workflows')).sort();
  expect(registered).toEqual(['campaignWorkflow', 'categoryChoiceWorkflow', 'directConsentWorkflow', 'eventDeliveryWorkflow', 'inboundMessageWorkflow', 'journeyWorkflow', 'journeyWorkflowV2', 'journeyWorkflowV3', 'journeyWorkflowV4', 'journeyWorkflowV5', 'optOutWorkflow', 'optOutWorkflowV2', 'optOutWorkflowV3', 'optOutWorkflowV4', 'optOutWorkflowV5', 'optOutWorkflowV6', 'whatsappTierWorkflow']);
  expect([...new Set(recorded.map((h) => h.workflowType))].sort()).toEqual(registered);
});

test('each history file name says its workflow type', () => {
  const typeByName = (workflowId: string) => Object.entries(PREFIXES).find(([prefix]) => workflowId.startsWith(prefix))?.[1] ?? 'journeyWorkflow';
  expect(recorded.map((h) => [h.workflowId, h.workflowType])).toEqual(recorded.map((h) => [h.workflowId, typeByName(h.workflowId)]));
});

test('every patch the workflow code calls is in the ledger of patch histories', () => {
  expect(patchIdsInWorkflowCode()).toEqual(Object.keys(PATCHES).sort());
});

test.each(Object.entries(PATCHES))('patch %s: the listed histories lack (before) or carry (after) its marker, for every workflow type that calls it', (patchId, { before, after }) => {
  const byId = (workflowId: string) => {
    const h = recorded.find((r) => r.workflowId === workflowId);
    if (!h) throw new Error(`no recorded history ${workflowId}`);
    return h;
  };
  expect(before.filter((id) => patchesIn(byId(id)).includes(patchId))).toEqual([]);
  expect(after.filter((id) => !patchesIn(byId(id)).includes(patchId))).toEqual([]);
  const types = (ids: string[]) => [...new Set(ids.map((id) => byId(id).workflowType))].sort();
  if (PATCHES[patchId].unguarded) expect(before).toEqual([]);
  else expect(types(before)).toEqual(types(after));
  // Every history that took the new branch is listed, so a type that calls the patch is not missed.
  expect(types(recorded.filter((h) => patchesIn(h).includes(patchId)).map((h) => h.workflowId))).toEqual(types(after));
});

const otherTypes = [...new Set(Object.values(PREFIXES))];
test.each(otherTypes)('every recorded %s history replays against the current workflow code', async (workflowType) => {
  const histories = recorded.filter((h) => h.workflowType === workflowType);
  expect(histories.length).toBeGreaterThan(0);
  const results = await replay(histories);
  expect(results.map((r) => ({ workflowId: r.workflowId, error: r.error ? String(r.error) : undefined }))).toEqual(histories.map((h) => ({ workflowId: h.workflowId, error: undefined })));
});

test('the replayer notices a history the code would not produce', async () => {
  const original = recorded.find((h) => h.workflowId === 'sms-confirmed')!;
  const tampered = structuredClone(original.json);
  const firstActivity = tampered.events.find((e) => e.activityTaskScheduledEventAttributes);
  expect(firstActivity.activityTaskScheduledEventAttributes.activityType.name).toBe('beginJourney');
  firstActivity.activityTaskScheduledEventAttributes.activityType.name = 'openJourney';
  const [result] = await replay([{ workflowId: 'tampered', json: tampered }]);
  expect(result.error).toBeInstanceOf(DeterminismViolationError);
});
