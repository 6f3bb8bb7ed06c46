import { patchesIn, recorded } from '../histories/recorded';

/**
 * What the recorded histories (test/histories/) show each change to the workflows did: which steps a
 * run of each type schedules, which markers it records. replay.test.ts replays the same files.
 */

const journeys = recorded.filter((h) => h.workflowType === 'journeyWorkflow');

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

test('a journeyWorkflowV4 run sends and confirms in its own workflow tasks: a reminder or a YES is one workflow task, where journeyWorkflowV3 took two', () => {
  const history = (id: string) => recorded.find((h) => h.workflowId === id)!.json.events;
  const localActivities = (id: string) => history(id).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
  const tasks = (id: string) => history(id).filter((e) => e.workflowTaskCompletedEventAttributes).length;
  const activities = (id: string) => history(id).filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes.activityType.name);
  // The request, the clarification and the confirmed answer's one step (confirmJourney), each in its own task.
  expect(activities('journeyv4-sms-confirmed')).toEqual([]);
  expect(localActivities('journeyv4-sms-confirmed')).toHaveLength(3);
  expect(tasks('journeyv4-sms-confirmed')).toBe(tasks('journeyv3-sms-confirmed') - 3);
  // The request and two reminders, then the deadline's store step.
  expect(activities('journeyv4-sms-expired-reminders')).toEqual([]);
  expect(activities('journeyv3-sms-expired-reminders')).toEqual(['send', 'send', 'send']);
  expect(tasks('journeyv4-sms-expired-reminders')).toBe(tasks('journeyv3-sms-expired-reminders') - 3);
});

test('a journeyWorkflowV5 run carries out a STOP sent with its signal: the step and its own end in the one task the signal brings', () => {
  const history = (id: string) => recorded.find((h) => h.workflowId === id)!.json.events;
  const decode = (p: { data: string }) => JSON.parse(Buffer.from(p.data, 'base64').toString('utf8'));
  const events = history('journeyv5-sms-stop-carried');
  const signalled = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'optedOut');
  const signal = decode(events[signalled].workflowExecutionSignaledEventAttributes.input.payloads[0]);
  expect(signal.carried).toMatchObject({ optOut: { optOutId: signal.optOutId, confirmOn: 'sms' }, confirmation: { idempotencyKey: `${signal.optOutId}/confirmation` } });
  const after = events.slice(signalled);
  expect(after.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(1);
  const steps = after.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').map((e) => decode(e.markerRecordedEventAttributes.details.data.payloads[0]).activity_type);
  expect(steps.sort()).toEqual(['finishJourney', 'honourAndConfirm']);
  expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);
  // A V5 journey with no opt-out has the shape of a V4 one.
  const tasks = (id: string) => history(id).filter((e) => e.workflowTaskCompletedEventAttributes).length;
  expect(tasks('journeyv5-sms-confirmed')).toBe(tasks('journeyv4-sms-confirmed'));
  expect(history('journeyv5-sms-expired-reminders')).toHaveLength(history('journeyv4-sms-expired-reminders').length);
});

test('an optOutWorkflowV4 run ends the journey in its first workflow task, beside one activity that honours and confirms', () => {
  const events = recorded.find((h) => h.workflowId === 'optoutv4-sms-stop-ends-journey')!.json.events;
  const firstTaskDone = events.findIndex((e) => e.workflowTaskCompletedEventAttributes);
  expect(events[firstTaskDone + 1].signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName).toBe('optedOut');
  expect(events[firstTaskDone + 2].activityTaskScheduledEventAttributes?.activityType.name).toBe('honourAndConfirm');
  expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toHaveLength(1);
  expect(events.filter((e) => e.markerRecordedEventAttributes)).toEqual([]);
});

test('an optOutWorkflowV5 run schedules one activity in its first workflow task and signals nothing itself: two workflow tasks in all', () => {
  const events = recorded.find((h) => h.workflowId === 'optoutv5-sms-stop-ends-journey')!.json.events;
  expect(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => e.activityTaskScheduledEventAttributes.activityType.name)).toEqual(['honourAndConfirm']);
  expect(events.filter((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes)).toEqual([]);
  expect(events.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(2);
  expect(events.filter((e) => e.markerRecordedEventAttributes)).toEqual([]);
});

test('an optOutWorkflowV6 run is one workflow task: its one step is a local activity, and nothing is scheduled on the task queue', () => {
  const events = recorded.find((h) => h.workflowId === 'optoutv6-sms-stop-ends-journey')!.json.events;
  expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);
  const markers = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
  expect(markers.map((e) => JSON.parse(Buffer.from(e.markerRecordedEventAttributes.details.data.payloads[0].data, 'base64').toString('utf8')).activity_type)).toEqual(['honourAndConfirm']);
  expect(events.filter((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes)).toEqual([]);
  expect(events.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(1);
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

test('a journey or an opt-out of the patch-free types records no patch marker and no TemporalChangeVersion upsert', () => {
  const current = recorded.filter((h) => ['journeyWorkflowV2', 'journeyWorkflowV3', 'journeyWorkflowV4', 'journeyWorkflowV5', 'optOutWorkflowV2', 'optOutWorkflowV3', 'optOutWorkflowV4', 'optOutWorkflowV5', 'optOutWorkflowV6'].includes(h.workflowType));
  const changeVersionUpserts = (h: (typeof recorded)[number]) =>
    h.json.events.filter((e) => Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}).includes('TemporalChangeVersion')).length;
  expect(current.map((h) => h.workflowId)).toEqual(['journeyv2-sms-confirmed', 'journeyv2-sms-expired-reminders', 'journeyv3-sms-confirmed', 'journeyv3-sms-expired-reminders', 'journeyv4-sms-confirmed', 'journeyv4-sms-expired-reminders', 'journeyv5-sms-confirmed', 'journeyv5-sms-expired-reminders', 'journeyv5-sms-stop-carried', 'optoutv2-sms-stop-ends-journey', 'optoutv3-sms-stop-ends-journey', 'optoutv4-sms-stop-ends-journey', 'optoutv5-sms-stop-ends-journey', 'optoutv6-sms-stop-ends-journey']);
  expect(current.map((h) => [h.workflowId, patchesIn(h), changeVersionUpserts(h)])).toEqual(current.map((h) => [h.workflowId, [], 0]));
  // The older type's runs do record them, so the check above can fail.
  expect(changeVersionUpserts(recorded.find((h) => h.workflowId === 'sms-confirmed-lean-start')!)).toBeGreaterThan(0);
  expect(changeVersionUpserts(recorded.find((h) => h.workflowId === 'optout-sms-stop-ends-journey')!)).toBeGreaterThan(0);
});

