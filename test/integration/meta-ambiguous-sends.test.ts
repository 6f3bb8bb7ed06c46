import { contactIdOf } from '../../store/models';
import { numberedPhones } from '../harness/contact';
import { startTestStack, type TestStack } from '../harness/stack';
import { startJourney, waitForJourney } from '../harness/stack-queries';
import { eventually, sleep } from '../harness/wait';

/**
 * Sends through Meta's Cloud API whose outcome we did not hear (docs/ambiguous-sends.md): Meta has no
 * message list to ask, so the `statuses` webhook (it carries the outbox key in biz_opaque_callback_data)
 * settles them, and only a send Meta stays silent about is sent again. A rate limit (130429) is a
 * refusal before anything was sent: retried at once. Faults apply to the next send of any contact, so
 * these tests run one after another.
 */

const phoneNo = numberedPhones(500);
const SLOW = 60_000;

jest.setTimeout(150_000);

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'metaamb' });
});
afterAll(async () => {
  await stack?.close();
});

const toContact = (phone: string) => stack.carrier.messages({ to: `whatsapp:${phone}` });

async function requestRow(phone: string, settled: (row: any) => boolean) {
  return eventually('the request outbox row to settle', async () => {
    const row = await stack.store.outbox.findOne({ businessId: 'bloom', contactId: contactIdOf('bloom', phone), purpose: 'request' }).lean();
    return row && settled(row) ? row : undefined;
  }, SLOW);
}

async function journeyWithRequestSent(phone: string) {
  const journeyId = await startJourney(stack, { businessId: 'bloom', contact: { phone }, categories: ['offers'], plan: [{ channel: 'whatsapp', waitFor: '90s' }] });
  return waitForJourney(stack, journeyId, (j) => j.events.some((e: any) => e.kind === 'request:sent'), 'its request sent', SLOW);
}

test('Meta took the message but answered 500: the status webhook settles it, nothing is sent twice', async () => {
  const phone = phoneNo(1);
  stack.carrier.injectFault({ target: 'meta', status: 500, applied: true });
  const journey = await journeyWithRequestSent(phone);
  const sent = journey.events.find((e: any) => e.kind === 'request:sent');
  const row = await requestRow(phone, (r) => r.status === 'sent');
  expect(row.provider).toBe('meta');
  expect(row.resolution).toMatchObject({ outcome: 'found', how: 'status_callback' });
  await sleep(2_000);
  const messages = toContact(phone);
  expect(messages).toHaveLength(1);
  expect(sent.providerId).toBe(messages[0].sid);
  expect(row.providerId).toBe(messages[0].sid);
});

test('Meta answered 503 without taking the message and stays silent: sent again once, through the gate', async () => {
  const phone = phoneNo(2);
  stack.carrier.injectFault({ target: 'meta', status: 503 });
  await journeyWithRequestSent(phone);
  const row = await requestRow(phone, (r) => r.status === 'sent');
  expect(row.resolution).toMatchObject({ outcome: 'resent', how: 'status_webhook_silence', resends: 1 });
  expect(toContact(phone)).toHaveLength(1);
});

test('a rate limit (130429) is a refusal before sending: the claim is released and the retry sends once', async () => {
  const phone = phoneNo(3);
  stack.carrier.injectFault({ target: 'meta', status: 429 });
  await journeyWithRequestSent(phone);
  const row = await requestRow(phone, (r) => r.status === 'sent');
  expect(row.attempts).toBe(2);
  expect(row.resolution).toBeUndefined();
  expect(toContact(phone)).toHaveLength(1);
});
