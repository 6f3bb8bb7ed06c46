import path from 'node:path';
import { contactIdOf } from '../../store/models';
import { WHATSAPP_TIER_WORKFLOW_TYPE, whatsappTierUsageQuery, whatsappTierWorkflowId, type WhatsappTierInput } from '../../workflows/campaign/tier-contract';
import { journeyWorkflowId } from '../../workflows/journey/contract';
import { freshPhones, waitForWhatsappWindow } from '../harness/contact';
import { startTestStack, type TestStack } from '../harness/stack';
import { workflowExists } from '../harness/stack-queries';
import { sleep } from '../harness/wait';

/**
 * Single journeys (POST /v1/journeys and the routes built on it) that open a business-initiated
 * WhatsApp conversation draw from the business's tier, like campaigns. 'tiered' has a tier of 6; the
 * test starts the tier workflow itself with a 20-second window instead of 24 hours.
 */

const tierBusinesses = path.join(__dirname, '..', 'fixtures', 'businesses.tier.json');
const TIER = 6;
const WINDOW_MS = 20_000;
const WHATSAPP_SENDER = '+1500555107';
const QUICK_REPLY_CONTENT = 'HXtiered0session0quick0reply0004';
const OPTIN_TEMPLATE = 'HXtiered0optin0request00000000001';

let stack: TestStack;
jest.setTimeout(90_000);

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'jtier', businessesFile: tierBusinesses });
  const input: WhatsappTierInput = { businessId: 'tiered', windowMs: WINDOW_MS };
  await stack.client.workflow.start(WHATSAPP_TIER_WORKFLOW_TYPE, { workflowId: whatsappTierWorkflowId('tiered'), taskQueue: stack.taskQueue, args: [input] });
});
afterAll(async () => {
  await stack?.close();
});

const freshPhone = freshPhones('+1415556');

const whatsappJourney = (phone: string, step: Record<string, unknown> = {}) => ({ businessId: 'tiered', contact: { phone }, categories: ['offers'], plan: [{ channel: 'whatsapp', waitFor: '30s', ...step }] });
const postJourney = (body: unknown) => stack.request('POST', '/v1/journeys', body);
const used = async () => (await stack.client.workflow.getHandle(whatsappTierWorkflowId('tiered')).query(whatsappTierUsageQuery)).used;

const journeyExists = (phone: string) => workflowExists(stack, journeyWorkflowId('tiered', contactIdOf('tiered', phone)));

/** The contact writes to the business on WhatsApp: their customer service window opens. */
async function contactWrites(phone: string): Promise<void> {
  await stack.carrier.sendInbound({ from: `whatsapp:${phone}`, to: `whatsapp:${WHATSAPP_SENDER}`, body: 'Hello, is my order on its way?' });
  await waitForWhatsappWindow(stack, phone, { businessId: 'tiered' });
}

let refused: { phone: string; retryAfterMs: number; at: number };

test('WhatsApp-first journeys draw one grant each up to the tier; the next is a 429 naming the tier, with Retry-After, and starts nothing', async () => {
  const phones = Array.from({ length: TIER }, freshPhone);
  const firsts = await Promise.all(phones.slice(0, TIER - 1).map((phone) => postJourney(whatsappJourney(phone))));
  expect(firsts.map((r) => r.status)).toEqual(Array(TIER - 1).fill(202));
  // The same journey posted twice at once (a client retrying a slow request): one grant between them.
  const twice = await Promise.all([postJourney(whatsappJourney(phones[TIER - 1])), postJourney(whatsappJourney(phones[TIER - 1]))]);
  expect(twice.map((r) => r.status).sort()).toEqual([200, 202]);
  expect(twice[0].body.journeyId).toBe(twice[1].body.journeyId);
  expect(await used()).toBe(TIER);

  const phone = freshPhone();
  const sentAt = Date.now();
  const res = await fetch(`${stack.apiUrl}/v1/journeys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(whatsappJourney(phone)),
  });
  const body = (await res.json()) as any;
  expect(res.status).toBe(429);
  expect(body.error).toBe('whatsapp_tier_used_up');
  expect(body.message).toMatch(/^business "tiered" has used up its WhatsApp tier \(6 new contacts per rolling 24 hours; 6 taken\): budget frees up at \d{4}-\d\d-\d\dT[\d:.]+Z \(in \d+ s\)\. Nothing was started/);
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000 + 1);
  expect(body.issues).toMatchObject({ whatsappTier: TIER, used: TIER, retryAfterSeconds: retryAfter });
  expect(Date.parse(body.issues.nextFreeAt)).toBeGreaterThan(sentAt);
  refused = { phone, retryAfterMs: retryAfter * 1000, at: Date.now() };

  expect(await journeyExists(phone)).toBe(false);
  expect(await used()).toBe(TIER);
  await stack.carrier.waitFor(() => phones.every((p) => stack.carrier.messages({ to: `whatsapp:${p}` }).length === 1), 15_000);
  expect(stack.carrier.messages({ to: `whatsapp:${phone}` })).toHaveLength(0);
  // Asked again while the tier is still used up: the same answer, still nothing started.
  expect((await postJourney(whatsappJourney(phone))).status).toBe(429);
  expect(await journeyExists(phone)).toBe(false);

  // A repeated POST of a journey that runs is answered with that journey and draws nothing (a draw would be refused now).
  const again = await postJourney(whatsappJourney(phones[0]));
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ journeyId: firsts[0].body.journeyId, existing: true });
  expect(await used()).toBe(TIER);
});

test('SMS-first journeys do not draw: they start with the tier used up', async () => {
  const sms = await postJourney({ businessId: 'tiered', contact: { phone: freshPhone() }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '30s' }, { channel: 'whatsapp', waitFor: '30s' }] });
  expect(sms.status).toBe(202);
  const defaultPlan = await postJourney({ businessId: 'tiered', contact: { phone: freshPhone() }, categories: ['order_updates'] });
  expect(defaultPlan.status).toBe(202);
  expect(await used()).toBe(TIER);
});

test('the web form asks by SMS when the WhatsApp tier is used up, instead of failing', async () => {
  const phone = freshPhone();
  const body = new URLSearchParams({ phone, categories: 'offers', confirmBy: 'whatsapp' });
  const res = await fetch(`${stack.apiUrl}/b/tiered/optin`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '192.0.2.77' }, body });
  expect(res.status).toBe(200);
  expect(await res.text()).toContain('an SMS text message');
  const ask = await stack.carrier.waitFor(() => stack.carrier.messages({ contact: phone }).find((m) => m.direction === 'outbound-api'), 15_000);
  expect(ask.channel).toBe('sms');
  expect(await used()).toBe(TIER);
  const journey = await stack.store.journeys.findOne({ contactId: contactIdOf('tiered', phone) }).lean();
  expect((journey?.source as { evidence?: { formPost?: { askedBy?: string; form?: { confirmBy?: string } } } } | undefined)?.evidence?.formPost).toMatchObject({ askedBy: 'sms', form: { confirmBy: 'whatsapp' } });
});

test('inside the customer service window the first WhatsApp message is a free session message: no draw, unless a reminder would fall after the window', async () => {
  const chatting = freshPhone();
  await contactWrites(chatting);
  const free = await postJourney(whatsappJourney(chatting));
  expect(free.status).toBe(202);
  const ask = await stack.carrier.waitFor(() => stack.carrier.messages({ to: `whatsapp:${chatting}`, direction: 'outbound-api' })[0], 15_000);
  expect(ask.contentSid).toBe(QUICK_REPLY_CONTENT);

  // The agent's in-chat request is the same case.
  const agentChat = freshPhone();
  await contactWrites(agentChat);
  const agent = await stack.request('POST', '/v1/agent/optin', { businessId: 'tiered', agentId: 'agent-3', ticketId: 'T-77', phone: agentChat, categories: ['offers'] });
  expect(agent.status).toBe(202);

  // A reminder 23.5 hours on would go out as a template after the window has closed: that journey draws, and is refused now.
  const late = freshPhone();
  await contactWrites(late);
  const refusedLate = await postJourney(whatsappJourney(late, { waitFor: '24h', remindAfter: ['1410m'] }));
  expect(refusedLate.status).toBe(429);
  expect(await journeyExists(late)).toBe(false);
  expect(await used()).toBe(TIER);
});

test('the refused journey starts once its Retry-After has passed, with the template', async () => {
  const wait = refused.at + refused.retryAfterMs - Date.now();
  if (wait > 0) await sleep(wait + 200);
  const r = await postJourney(whatsappJourney(refused.phone));
  expect(r.status).toBe(202);
  const ask = await stack.carrier.waitFor(() => stack.carrier.messages({ to: `whatsapp:${refused.phone}`, direction: 'outbound-api' })[0], 15_000);
  expect(ask.contentSid).toBe(OPTIN_TEMPLATE);
  expect(await used()).toBeGreaterThanOrEqual(1);
});
