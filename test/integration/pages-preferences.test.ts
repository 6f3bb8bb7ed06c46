import { pageLinks } from '../../lib/page-links';
import { createPageToken } from '../../lib/tokens';
import { contactIdOf } from '../../store/models';
import { consentsOf, optInBySms } from '../harness/contact';
import { startTestStack, TEST_PAGE_SECRET, type TestStack } from '../harness/stack';
import { eventually, sleep } from '../harness/wait';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'ppref' });
});
afterAll(async () => {
  await stack?.close();
});

async function post(url: string, fields: Record<string, string | string[]>) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  return { status: res.status, html: await res.text() };
}

async function formIdOf(url: string): Promise<string> {
  const html = await (await fetch(url)).text();
  const m = /name="form" value="([A-Za-z0-9_-]+)"/.exec(html);
  if (!m) throw new Error('no form id on the page');
  return m[1];
}

test('a double submit of one page is one opt-out; the same choice from a new page is a new one', async () => {
  const phone = '+14155550191';
  await optInBySms(stack, phone, ['order_updates', 'offers']);
  const url = pageLinks(stack.apiUrl, TEST_PAGE_SECRET).preferences('acme', contactIdOf('acme', phone));
  const form = await formIdOf(url);
  const [first, second] = await Promise.all([post(url, { form, action: 'save', on: 'order_updates' }), post(url, { form, action: 'save', on: 'order_updates' })]);
  expect([first.status, second.status]).toEqual([200, 200]);
  const { events } = await consentsOf(stack, phone);
  expect(events.filter((e) => e.type === 'opted_out')).toHaveLength(1);
  expect(events.find((e) => e.type === 'opted_out').proof).toMatchObject({ channel: 'web', method: 'preferences_page', reason: 'switched off on the preference page' });

  const unchanged = await post(url, { form: await formIdOf(url), action: 'save', on: 'order_updates' });
  expect(unchanged.html).toContain('Nothing to change');
});

test('switching on after unsubscribing from all says how to opt back in, and sends nothing', async () => {
  const phone = '+14155550192';
  await optInBySms(stack, phone, ['order_updates']);
  const url = pageLinks(stack.apiUrl, TEST_PAGE_SECRET).preferences('acme', contactIdOf('acme', phone));
  expect((await post(url, { form: await formIdOf(url), action: 'unsubscribe_all' })).status).toBe(200);
  expect((await consentsOf(stack, phone)).messaging).toBe('opted_out');
  const sentBefore = stack.carrier.messages({ contact: phone }).length;

  const r = await post(url, { form: await formIdOf(url), action: 'save', on: ['offers', 'not_a_category'] });
  expect(r.status).toBe(200);
  expect(r.html).toContain('Not switched on: Offers and promotions. You unsubscribed from all messages from Acme Outdoor Supplies earlier; to receive messages again, reply START');
  await sleep(300);
  expect(stack.carrier.messages({ contact: phone })).toHaveLength(sentBefore);
  expect((await consentsOf(stack, phone)).byCategory.offers).toBe('opted_out');
});

test('bad links and bad forms get pages that say what is wrong', async () => {
  const known = '+14155550193';
  await optInBySms(stack, known, ['offers']);
  const contactId = contactIdOf('acme', known);

  const wrongPurpose = await fetch(`${stack.apiUrl}/p/${createPageToken(TEST_PAGE_SECRET, { p: 'unsubscribe', b: 'acme', c: contactId, exp: Math.floor(Date.now() / 1000) + 60 })}`);
  expect(wrongPurpose.status).toBe(400);
  expect(await wrongPurpose.text()).toContain('This link belongs to a different page');

  const expired = await fetch(pageLinks(stack.apiUrl, TEST_PAGE_SECRET).preferences('acme', contactId, -1));
  expect(expired.status).toBe(410);

  const stranger = await fetch(pageLinks(stack.apiUrl, TEST_PAGE_SECRET).preferences('acme', contactIdOf('acme', '+14155550199')));
  expect(stranger.status).toBe(404);
  expect(await stranger.text()).toContain('We have no record of you');

  const url = pageLinks(stack.apiUrl, TEST_PAGE_SECRET).preferences('acme', contactId);
  const noForm = await post(url, { action: 'save', on: 'offers' });
  expect(noForm.status).toBe(400);
  expect(noForm.html).toContain('form must be the form id the page was rendered with');
  const badAction = await post(url, { form: 'abcdefghij', action: 'delete' });
  expect(badAction.status).toBe(400);
  expect(badAction.html).toContain('action must be &quot;save&quot; or &quot;unsubscribe_all&quot;');
  await eventually('offers to be switched on', async () => (await consentsOf(stack, known)).byCategory.offers === 'opted_in');
});
