import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { DefaultLogger, Runtime, Worker, type ReplayResult } from '@temporalio/worker';
import { historyFromJson } from '../histories/history-json';
import { testWorkflowBundle } from '../harness/servers';

/**
 * Journeys recorded by test/histories/record.ts must replay against the workflow code as it is now:
 * a change that would break running journeys fails here (ship it behind patched() instead).
 */

jest.setTimeout(60_000);

Runtime.install({ logger: new DefaultLogger('WARN') });

const historiesDir = path.join(__dirname, '..', 'histories');
const recorded = readdirSync(historiesDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => ({ workflowId: path.basename(file, '.json'), json: JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')) as { events: any[] } }));

async function replay(histories: Array<{ workflowId: string; json: { events: any[] } }>): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  const iterable = histories.map((h) => ({ workflowId: h.workflowId, history: historyFromJson(h.json) }));
  for await (const result of Worker.runReplayHistories({ workflowBundle: testWorkflowBundle() }, iterable)) results.push(result);
  return results;
}

test('the recorded journeys cover the main endings', () => {
  const endings = recorded.map((h) => {
    const completed = h.json.events.find((e) => e.workflowExecutionCompletedEventAttributes);
    const payload = completed.workflowExecutionCompletedEventAttributes.result.payloads[0].data;
    return JSON.parse(Buffer.from(payload, 'base64').toString('utf8')).status;
  });
  expect(new Set(endings)).toEqual(new Set(['confirmed', 'expired', 'cancelled', 'opted_out']));
  expect(recorded.map((h) => h.workflowId)).toEqual(expect.arrayContaining(['sms-confirmed', 'sms-expired-reminders', 'email-confirmed-narrowed']));
});

test('histories from before and after the journey-early-provider-reports patch are both kept', () => {
  const hasMarker = (h: { json: { events: any[] } }) => h.json.events.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
  expect(recorded.filter(hasMarker).length).toBeGreaterThan(0);
  expect(recorded.filter((h) => !hasMarker(h)).length).toBeGreaterThan(0);
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

test('every recorded journey replays against the current workflow code', async () => {
  const results = await replay(recorded);
  expect(results.map((r) => r.workflowId)).toEqual(recorded.map((h) => h.workflowId));
  expect(results.map((r) => ({ workflowId: r.workflowId, error: r.error ? String(r.error) : undefined }))).toEqual(recorded.map((h) => ({ workflowId: h.workflowId, error: undefined })));
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
