import { createPageToken } from '../../lib/tokens';
import { contactIdOf } from '../../store/models';
import { consentsOf } from '../harness/contact';
import { startTestStack, TEST_PAGE_SECRET, type TestStack } from '../harness/stack';
import { journeyOf } from '../harness/stack-queries';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'pconf' });
});
afterAll(async () => {
  await stack?.close();
});

async function emailJourney(phone: string, email: string, categories: string[]) {
  const start = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone, email }, categories, plan: [{ channel: 'email', waitFor: '60s' }] });
  expect(start.status).toBe(202);
  const mail = await stack.carrier.waitFor(() => stack.carrier.emails({ to: email })[0], 10_000);
  return { journeyId: start.body.journeyId as string, link: mail.links.find((l) => l.includes('/c/'))! };
}

function form(fields: Record<string, string | string[]>) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body };
}

test('pages are not cached, framed or scripted; HEAD and GET change nothing', async () => {
  const { journeyId, link } = await emailJourney('+14155550201', 'cy@example.com', ['order_updates']);
  for (const method of ['HEAD', 'GET']) {
    const res = await fetch(link, { method });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  }
  const problem = await fetch(`${stack.apiUrl}/c/not-a-token-at-all`);
  expect(problem.status).toBe(400);
  expect(problem.headers.get('cache-control')).toBe('no-store');
  expect((await journeyOf(stack, journeyId)).status).toBe('active');
});

test('a category the link did not ask for cannot be added by editing the form; a form without a decision is refused', async () => {
  const phone = '+14155550202';
  const { journeyId, link } = await emailJourney(phone, 'di@example.com', ['order_updates']);
  const noDecision = await fetch(link, form({ categories: 'order_updates' }));
  expect(noDecision.status).toBe(400);
  expect(await noDecision.text()).toContain('press one of the two buttons');
  expect((await journeyOf(stack, journeyId)).status).toBe('active');

  const res = await fetch(link, form({ decision: 'confirm', categories: ['order_updates', 'offers'] }));
  expect(res.status).toBe(200);
  await journeyOf(stack, journeyId, 'confirmed');
  expect((await consentsOf(stack, phone)).byCategory).toEqual({ order_updates: 'opted_in', offers: 'none', recommendations: 'none' });

  const replay = await fetch(link, form({ decision: 'decline' }));
  expect(replay.status).toBe(410);
  expect((await consentsOf(stack, phone)).byCategory.order_updates).toBe('opted_in');
});

test('a confirmation token is refused on the unsubscribe page, and an unsubscribe token on the confirmation page', async () => {
  const c = contactIdOf('acme', '+14155550203');
  const exp = Math.floor(Date.now() / 1000) + 60;
  const onUnsubscribe = await fetch(`${stack.apiUrl}/u/${createPageToken(TEST_PAGE_SECRET, { p: 'confirm', b: 'acme', c, exp })}`, form({ confirm: 'all' }));
  expect(onUnsubscribe.status).toBe(400);
  const onConfirm = await fetch(`${stack.apiUrl}/c/${createPageToken(TEST_PAGE_SECRET, { p: 'unsubscribe', b: 'acme', c, exp })}`);
  expect(onConfirm.status).toBe(400);
  expect(await onConfirm.text()).toContain('This link is not valid');
  expect(await stack.store.contacts.countDocuments({ _id: c })).toBe(0);
});
