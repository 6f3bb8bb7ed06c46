import { contactIdOf } from '../../store/models';
import { consentsOf } from '../harness/contact';
import { startTestStack, type TestStack } from '../harness/stack';
import { eventually, sleep } from '../harness/wait';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'pform' });
});
afterAll(async () => {
  await stack?.close();
});

async function submit(fields: Record<string, string | string[]>, ip: string, business = 'acme') {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
  const res = await fetch(`${stack.apiUrl}/b/${business}/optin`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip, 'user-agent': 'FormTest/1.0' }, body });
  return { status: res.status, headers: res.headers, html: await res.text() };
}

test('at most 5 sign-ups per IP in 10 minutes; another IP is not affected', async () => {
  for (let i = 0; i < 5; i++) {
    const r = await submit({ phone: `+1415555017${i}`, categories: 'offers' }, '203.0.113.10');
    expect(r.status).toBe(200);
  }
  const sixth = await submit({ phone: '+14155550175', categories: 'offers' }, '203.0.113.10');
  expect(sixth.status).toBe(429);
  expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(590);
  expect(sixth.html).toContain('Please try again in 10 minutes');
  expect((await submit({ phone: '+14155550175', categories: 'offers' }, '203.0.113.11')).status).toBe(200);
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: 'whatsapp:+14155550175' })[0], 10_000);
  expect(stack.carrier.messages({ to: 'whatsapp:+14155550175' })).toHaveLength(1);
});

test('at most 3 sign-ups per phone number in an hour, from any IP', async () => {
  for (let i = 0; i < 3; i++) expect((await submit({ phone: '+14155550180', categories: 'order_updates' }, `198.51.100.${i + 1}`)).status).toBe(200);
  const fourth = await submit({ phone: '+1 415 555 0180', categories: 'order_updates' }, '198.51.100.9');
  expect(fourth.status).toBe(429);
  expect(fourth.html).toContain('Too many sign-ups');
});

test('wrong input: each 4xx page says what is wrong, escaped, and nothing starts', async () => {
  const noCategory = await submit({ phone: '+14155550181' }, '192.0.2.1');
  expect(noCategory.status).toBe(400);
  expect(noCategory.html).toContain('Tick at least one kind of message');

  const badPhone = await submit({ phone: '"><script>x</script>', categories: 'offers' }, '192.0.2.1');
  expect(badPhone.status).toBe(400);
  expect(badPhone.html).not.toContain('<script>x');
  expect(badPhone.html).toContain('value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
  expect(badPhone.headers.get('cache-control')).toBe('no-store');

  const honeypot = await submit({ phone: '+14155550181', categories: 'offers', website: 'x' }, '192.0.2.1');
  expect(honeypot.status).toBe(400);
  expect(honeypot.html).toContain('must be left empty');

  const unknown = await fetch(`${stack.apiUrl}/b/%3Cscript%3E/optin`);
  expect(unknown.status).toBe(404);
  expect(await unknown.text()).toContain('There is no sign-up form at this address');

  await sleep(300);
  expect(stack.carrier.messages({ contact: '+14155550181' })).toHaveLength(0);
  expect(await stack.store.journeys.countDocuments({ contactId: contactIdOf('acme', '+14155550181') })).toBe(0);
});

test('SMS can be chosen for the confirmation; an opted-out number gets the same page and no message', async () => {
  expect((await submit({ phone: '+14155550182', categories: ['order_updates', 'offers'], confirmBy: 'sms' }, '192.0.2.2')).status).toBe(200);
  const sms = await stack.carrier.waitFor(() => stack.carrier.messages({ to: '+14155550182' })[0], 10_000);
  expect(sms.channel).toBe('sms');
  expect(sms.body).toContain('Order updates and Offers and promotions');

  const optout = await stack.request('POST', '/v1/optouts', { businessId: 'acme', phone: '+14155550183', reason: 'asked by phone', source: { kind: 'agent' } });
  expect(optout.status).toBe(202);
  await eventually('the contact to be opted out', async () => (await stack.store.contacts.findById(contactIdOf('acme', '+14155550183')).lean())?.messaging === 'opted_out');
  const r = await submit({ phone: '+14155550183', categories: 'offers' }, '192.0.2.2');
  expect(r.status).toBe(200);
  expect(r.html).toContain('Check your phone');
  await sleep(500);
  expect(stack.carrier.messages({ contact: '+14155550183' }).filter((m) => m.direction === 'outbound-api' && m.contentSid !== 'HXacme0optout0confirmation0000003')).toHaveLength(0);
});

let signUpProof: any;
test('the consent from a sign-up names the web form as its source', async () => {
  expect((await submit({ phone: '+14155550184', categories: 'offers' }, '192.0.2.3')).status).toBe(200);
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: 'whatsapp:+14155550184' })[0], 10_000);
  await stack.carrier.sendInbound({ from: 'whatsapp:+14155550184', to: 'whatsapp:+15005550007', buttonPayload: 'yes', buttonText: 'Yes' });
  const optIn = await eventually('the offers opt-in', async () => (await consentsOf(stack, '+14155550184')).events.find((e) => e.type === 'opted_in' && e.category === 'offers'));
  expect(optIn.proof).toMatchObject({ method: 'whatsapp_button', channel: 'whatsapp', source: { kind: 'web_form' } });
  expect(optIn.proof.source.reference).toMatch(/^webform\./);
  signUpProof = optIn.proof;
});

test('the form post (IP, user agent, text shown) is in that consent proof', () => {
  expect(signUpProof.source.evidence.formPost).toMatchObject({ ip: '192.0.2.3', userAgent: 'FormTest/1.0', form: { categories: ['offers'] } });
  expect(signUpProof.source.evidence.formPost.shownText).toContain('Get messages from Acme Outdoor Supplies on WhatsApp');
});
