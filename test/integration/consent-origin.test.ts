import { MockActivityEnvironment } from '@temporalio/testing';
import { createConsentActivities, type RecordAnswerInput } from '../../activities/consent';
import { contactIdOf } from '../../store/models';
import { recordJourneyBegin } from '../../store/journeys';
import { startTestStack, type TestStack } from '../harness/stack';

/**
 * Who asked for a journey is part of its consent proof. A run passes it to recordConsent; a step
 * scheduled by a run from before it did carries none, and the journey's document must give the same.
 */

let stack: TestStack;
jest.setTimeout(60_000);

beforeAll(async () => {
  stack = await startTestStack({ worker: false, prefix: 'origin' });
});

afterAll(async () => {
  await stack?.close();
});

const origin = {
  source: { kind: 'campaign', reference: 'spring-sale' },
  campaignId: 'cmp_00000000000a1b2c',
  actor: { kind: 'api_key' as const, keyId: 'campaigns-acme' },
};

async function begunJourney(phone: string, n: number): Promise<Omit<RecordAnswerInput, 'origin'>> {
  const contactId = contactIdOf('acme', phone);
  const workflowId = `journey.acme.${contactId}.origin${n}`;
  const ref = { journeyId: `${workflowId}.run${n}`, workflowId, runId: `run${n}`, businessId: 'acme', contactId, phone };
  const plan = [{ channel: 'sms' as const, waitForMs: 60_000, remindAfterMs: [] }];
  await recordJourneyBegin(stack.store, { ...ref, contact: { phone }, categories: ['offers'], plan, requestedAt: new Date().toISOString(), ...origin });
  const at = new Date().toISOString();
  return { ...ref, categories: ['offers'], request: { channel: 'sms', requestedAt: at }, answer: { decision: 'confirm', method: 'sms_reply', channel: 'sms', receivedAt: at, text: 'YES', payload: { Body: 'YES' } } };
}

async function optedInEvent(journeyId: string) {
  const event = await stack.store.consentEvents.findById(`${journeyId}:offers:opted_in`).lean();
  expect(event).not.toBeNull();
  return event!;
}

test('the proof names who asked, whether the run passed it or the journey document had to give it', async () => {
  const { recordConsent } = createConsentActivities({ store: stack.store, businesses: stack.businesses });
  const passed = await begunJourney('+14155550871', 1);
  const scheduledBefore = await begunJourney('+14155550872', 2);

  await new MockActivityEnvironment().run(recordConsent, { ...passed, origin });
  await new MockActivityEnvironment().run(recordConsent, scheduledBefore);

  for (const journeyId of [passed.journeyId, scheduledBefore.journeyId]) {
    const event = await optedInEvent(journeyId);
    expect(event.proof).toMatchObject({ source: origin.source, campaignId: origin.campaignId, journeyId });
    expect(event.actor).toEqual({ kind: 'contact', channel: 'sms', requestedBy: { keyId: 'campaigns-acme' } });
  }
});
