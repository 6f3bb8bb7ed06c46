import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { DefaultLogger, Runtime, Worker, type ReplayResult } from '@temporalio/worker';
import { historyFromJson } from '../histories/history-json';
import { testWorkflowBundle } from '../harness/servers';

/**
 * Histories recorded by test/histories/record.ts must replay against the workflow code as it is now:
 * a change that would break running workflows fails here (ship it behind patched() instead). Every
 * workflow type the worker registers has at least one; journeyWorkflow files are named after their
 * scenario, the others (the newer journey types too) start with their type.
 */

jest.setTimeout(60_000);

Runtime.install({ logger: new DefaultLogger('WARN') });

const historiesDir = path.join(__dirname, '..', 'histories');
const recorded = readdirSync(historiesDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => {
    const json = JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')) as { events: any[] };
    const workflowType: string = json.events[0].workflowExecutionStartedEventAttributes.workflowType.name;
    return { workflowId: path.basename(file, '.json'), workflowType, json };
  });
const journeys = recorded.filter((h) => h.workflowType === 'journeyWorkflow');

/** The file-name prefix of each workflow type's histories; a file with none of them is a journey's. */
const PREFIXES: Record<string, string> = {
  'journeyv2-': 'journeyWorkflowV2',
  'journeyv3-': 'journeyWorkflowV3',
  'optout-': 'optOutWorkflow',
  'optoutv2-': 'optOutWorkflowV2',
  'optoutv3-': 'optOutWorkflowV3',
  'optoutv4-': 'optOutWorkflowV4',
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

/** The patch ids whose marker the history carries: the new branch of each was taken. */
function patchesIn(h: { json: { events: any[] } }): string[] {
  return h.json.events
    .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
    .map((e) => {
      const details = e.markerRecordedEventAttributes.details;
      return JSON.parse(Buffer.from(details[Object.keys(details)[0]].payloads[0].data, 'base64').toString('utf8')).id as string;
    });
}

async function replay(histories: Array<{ workflowId: string; json: { events: any[] } }>): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  const iterable = histories.map((h) => ({ workflowId: h.workflowId, history: historyFromJson(h.json) }));
  for await (const result of Worker.runReplayHistories({ workflowBundle: testWorkflowBundle() }, iterable)) results.push(result);
  return results;
}

test('the recorded journeys cover the main endings', () => {
  const endings = journeys.map((h) => {
    const completed = h.json.events.find((e) => e.workflowExecutionCompletedEventAttributes);
    const payload = completed.workflowExecutionCompletedEventAttributes.result.payloads[0].data;
    return JSON.parse(Buffer.from(payload, 'base64').toString('utf8')).status;
  });
  expect(new Set(endings)).toEqual(new Set(['confirmed', 'expired', 'cancelled', 'opted_out']));
  expect(journeys.map((h) => h.workflowId)).toEqual(expect.arrayContaining(['sms-confirmed', 'sms-expired-reminders', 'email-confirmed-narrowed']));
});

test('histories from before and after the journey-early-provider-reports patch are both kept', () => {
  const hasMarker = (h: { json: { events: any[] } }) => patchesIn(h).includes('journey-early-provider-reports');
  expect(journeys.filter(hasMarker).length).toBeGreaterThan(0);
  expect(journeys.filter((h) => !hasMarker(h)).length).toBeGreaterThan(0);
});

test('store steps are local activities in journeys recorded after store-steps-local, activities in older ones', () => {
  const scheduled = (workflowId: string) =>
    recorded.find((h) => h.workflowId === workflowId)!.json.events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes.activityType.name);
  const localSteps = (workflowId: string) => recorded.find((h) => h.workflowId === workflowId)!.json.events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length;
  expect(scheduled('sms-confirmed')).toEqual(['beginJourney', 'send', 'send', 'recordConsent', 'send', 'recordConfirmationSent', 'finishJourney']);
  expect(localSteps('sms-confirmed')).toBe(0);
  // beginJourney, recordConsent, recordConfirmationSent and finishJourney: four markers, no task queue round trips.
  expect(scheduled('sms-confirmed-local-steps')).toEqual(['send', 'send', 'send']);
  expect(localSteps('sms-confirmed-local-steps')).toBe(4);
});

test('a journey recorded after journey-lean-start begins inside its first send and does not repeat the channel it started with', () => {
  const events = (workflowId: string) => recorded.find((h) => h.workflowId === workflowId)!.json.events;
  const localSteps = (workflowId: string) => events(workflowId).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length;
  const channelUpserts = (workflowId: string) => events(workflowId).filter((e) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.OptinChannel).length;
  expect(localSteps('sms-confirmed-local-steps')).toBe(4);
  expect(channelUpserts('sms-confirmed-local-steps')).toBe(1);
  // recordConsent, recordConfirmationSent and finishJourney; the first send began the journey.
  expect(localSteps('sms-confirmed-lean-start')).toBe(3);
  expect(channelUpserts('sms-confirmed-lean-start')).toBe(0);
  const firstSend = events('sms-confirmed-lean-start').find((e) => e.activityTaskScheduledEventAttributes)!.activityTaskScheduledEventAttributes;
  const sendInput = JSON.parse(Buffer.from(firstSend.input.payloads[0].data, 'base64').toString('utf8'));
  expect(sendInput.begin).toMatchObject({ businessId: 'acme', journeyId: expect.any(String), workflowId: expect.any(String) });
});

test('a journeyWorkflowV3 run records, confirms and ends a confirmed answer in one activity, with no local-activity marker', () => {
  const events = recorded.find((h) => h.workflowId === 'journeyv3-sms-confirmed')!.json.events;
  expect(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes.activityType.name)).toEqual(['send', 'send', 'confirmJourney']);
  expect(events.filter((e) => e.markerRecordedEventAttributes)).toEqual([]);
});

test('a journey recorded after journey-quiet-hours was held back by quiet hours, slept until they ended and asked again', () => {
  const events = recorded.find((h) => h.workflowId === 'sms-deferred-quiet-hours')!.json.events;
  const decode = (p: any) => JSON.parse(Buffer.from(p.payloads[0].data, 'base64').toString('utf8'));
  const sends = events.filter((e) => e.activityTaskCompletedEventAttributes).map((e) => decode(e.activityTaskCompletedEventAttributes.result));
  expect(sends[0]).toMatchObject({ outcome: 'deferred', deferred: { reason: 'quiet_hours', until: expect.any(String) } });
  expect(sends[1]).toMatchObject({ outcome: 'sent' });
  const firstSend = decode(events.find((e) => e.activityTaskScheduledEventAttributes).activityTaskScheduledEventAttributes.input);
  expect(firstSend).toMatchObject({ purpose: 'request', requestPolicy: { timezone: 'UTC' }, begin: expect.any(Object) });
  expect(events.filter((e) => e.timerStartedEventAttributes)).toHaveLength(1);
});

test('every recorded journey replays against the current workflow code', async () => {
  const results = await replay(journeys);
  expect(results.map((r) => r.workflowId)).toEqual(journeys.map((h) => h.workflowId));
  expect(results.map((r) => ({ workflowId: r.workflowId, error: r.error ? String(r.error) : undefined }))).toEqual(journeys.map((h) => ({ workflowId: h.workflowId, error: undefined })));
});

test('every workflow type the worker registers has a recorded history', async () => {
  const registered = Object.keys(await import('../../workflows')).sort();
  expect(registered).toEqual(['campaignWorkflow', 'categoryChoiceWorkflow', 'directConsentWorkflow', 'eventDeliveryWorkflow', 'inboundMessageWorkflow', 'journeyWorkflow', 'journeyWorkflowV2', 'journeyWorkflowV3', 'optOutWorkflow', 'optOutWorkflowV2', 'optOutWorkflowV3', 'optOutWorkflowV4', 'whatsappTierWorkflow']);
  expect([...new Set(recorded.map((h) => h.workflowType))].sort()).toEqual(registered);
});

test('a journey or an opt-out of the patch-free types records no patch marker and no TemporalChangeVersion upsert', () => {
  const current = recorded.filter((h) => ['journeyWorkflowV2', 'journeyWorkflowV3', 'optOutWorkflowV2', 'optOutWorkflowV3', 'optOutWorkflowV4'].includes(h.workflowType));
  const changeVersionUpserts = (h: (typeof recorded)[number]) =>
    h.json.events.filter((e) => Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}).includes('TemporalChangeVersion')).length;
  expect(current.map((h) => h.workflowId)).toEqual(['journeyv2-sms-confirmed', 'journeyv2-sms-expired-reminders', 'journeyv3-sms-confirmed', 'journeyv3-sms-expired-reminders', 'optoutv2-sms-stop-ends-journey', 'optoutv3-sms-stop-ends-journey', 'optoutv4-sms-stop-ends-journey']);
  expect(current.map((h) => [h.workflowId, patchesIn(h), changeVersionUpserts(h)])).toEqual(current.map((h) => [h.workflowId, [], 0]));
  // The older type's runs do record them, so the check above can fail.
  expect(changeVersionUpserts(recorded.find((h) => h.workflowId === 'sms-confirmed-lean-start')!)).toBeGreaterThan(0);
  expect(changeVersionUpserts(recorded.find((h) => h.workflowId === 'optout-sms-stop-ends-journey')!)).toBeGreaterThan(0);
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
