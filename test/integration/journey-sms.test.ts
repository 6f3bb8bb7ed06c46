import { startTestStack, type TestStack } from '../harness/stack';
import { waitForJourneyStatus } from '../harness/stack-queries';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'jsms' });
});
afterAll(async () => {
  await stack?.close();
});

test('SMS journey: request, reply YES, consent with proof, WhatsApp confirmation', async () => {
  const phone = '+14155550101';
  const start = await stack.request('POST', '/v1/journeys', {
    businessId: 'acme',
    contact: { phone: '+1 (415) 555-0101' },
    categories: ['order_updates', 'offers'],
    plan: [{ channel: 'sms', waitFor: '30s' }],
  });
  expect(start.status).toBe(202);
  expect(start.body.status).toBe('active');
  const { journeyId } = start.body;

  const request = await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 10_000);
  expect(request.body).toContain('Acme Outdoor Supplies');
  expect(request.body).toContain('WhatsApp');
  expect(request.body).toContain('Order updates and Offers and promotions');

  const again = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories: ['offers'] });
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ journeyId, existing: true });

  const inbound = await stack.carrier.sendInbound({ from: phone, to: '+15005550006', body: 'Yes!' });
  expect(inbound.status).toBe(200);

  const done = await waitForJourneyStatus(stack, journeyId, 'confirmed');
  expect(done.outcome.categories).toEqual(['order_updates', 'offers']);

  const confirmation = await stack.carrier.waitFor(() => stack.carrier.messages({ to: `whatsapp:${phone}` })[0], 10_000);
  expect(confirmation.contentSid).toBe('HXacme0optin0confirmation00000002');

  const consents = await stack.request('GET', `/v1/consents?businessId=acme&phone=${encodeURIComponent(phone)}`);
  expect(consents.status).toBe(200);
  const byCat = Object.fromEntries(consents.body.categories.map((c: any) => [c.category, c.status]));
  expect(byCat).toEqual({ order_updates: 'opted_in', offers: 'opted_in', recommendations: 'none' });
  const optIn = consents.body.events.find((e: any) => e.type === 'opted_in' && e.category === 'offers');
  expect(optIn.proof).toMatchObject({ method: 'sms_reply', channel: 'sms', businessName: 'Acme Outdoor Supplies', requestProviderId: request.sid, answerText: 'Yes!' });
  expect(optIn.proof.shown).toBe(request.body);
  expect(optIn.proof.inbound.MessageSid).toBe(inbound.messageSid);
  const sent = consents.body.events.filter((e: any) => e.type === 'confirmation_sent');
  expect(sent).toHaveLength(2);
  expect(sent[0].proof.providerId).toBe(confirmation.sid);
});
