import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startCarrier, type Carrier } from '../../dev/carrier/carrier';
import { carrierMetaFor } from '../../dev/content-templates';
import { loadBusinesses } from '../../lib/businesses';
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN } from '../harness/stack';
import { eventually } from '../harness/wait';

/**
 * The local carrier's Graph API on its own: what it refuses (and with which Meta error), what it
 * accepts and later fails in a `statuses` webhook, and that every webhook is signed over its exact bytes.
 */

const SECRETS = { accessToken: 'carrier-meta-token-0123456789', appSecret: 'carrier-meta-app-secret-0123456789' };
const PHONE_NUMBER_ID = '106540352242922';

let carrier: Carrier;
let receiver: http.Server;
const received: Array<{ body: string; signature: string | undefined }> = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), signature: req.headers['x-hub-signature-256'] as string | undefined });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/meta`;
  const businesses = loadBusinesses(`${__dirname}/../../config/businesses.demo.json`).all();
  carrier = await startCarrier({ httpPort: 0, smtpPort: 0, accountSid: TEST_ACCOUNT_SID, authToken: TEST_AUTH_TOKEN, statusCallbackDelayMs: 10, meta: carrierMetaFor(businesses, { ...SECRETS, webhookUrl }) });
});
afterAll(async () => {
  await carrier?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

async function send(body: unknown, token = SECRETS.accessToken, phoneNumberId = PHONE_NUMBER_ID) {
  const res = await fetch(`${carrier.httpUrl}/v21.0/${phoneNumberId}/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as any };
}

const template = (to: string, params: string[], name = 'optin_request', language = 'en') => ({
  messaging_product: 'whatsapp',
  to,
  type: 'template',
  template: { name, language: { code: language }, components: [{ type: 'body', parameters: params.map((text) => ({ type: 'text', text })) }] },
});

function statusesFor(wamid: string): any[] {
  return received.flatMap((r) => JSON.parse(r.body).entry[0].changes[0].value.statuses ?? []).filter((s: any) => s.id === wamid);
}

test('refuses what the Cloud API refuses, with its error codes', async () => {
  expect(await send(template('14155550901', ['Bloom', 'Offers']), 'wrong-token-000000000000')).toMatchObject({ status: 401, json: { error: { code: 190 } } });
  expect(await send(template('14155550901', ['Bloom', 'Offers']), SECRETS.accessToken, '999')).toMatchObject({ status: 400, json: { error: { code: 100 } } });
  expect(await send(template('14155550901', ['Bloom', 'Offers'], 'no_such_template'))).toMatchObject({ status: 404, json: { error: { code: 132001 } } });
  expect(await send(template('14155550901', ['Bloom', 'Offers'], 'optin_request', 'de'))).toMatchObject({ status: 404, json: { error: { code: 132001 } } });
  expect(await send(template('14155550901', ['Bloom']))).toMatchObject({ status: 400, json: { error: { code: 132000 } } });
  const fourButtons = { type: 'button', body: { text: 'Pick one' }, action: { buttons: ['a', 'b', 'c', 'd'].map((id) => ({ type: 'reply', reply: { id, title: id } })) } };
  expect(await send({ messaging_product: 'whatsapp', to: '14155550901', type: 'interactive', interactive: fourButtons })).toMatchObject({ status: 400, json: { error: { code: 131009 } } });
  expect(await send({ messaging_product: 'whatsapp', to: '14155550901', type: 'text', text: {} })).toMatchObject({ status: 400, json: { error: { code: 131008 } } });
  expect(carrier.messages({ to: 'whatsapp:+14155550901' })).toHaveLength(0);
});

test('a rate limit fault answers 130429 and sends nothing', async () => {
  carrier.injectFault({ target: 'meta', status: 429 });
  expect(await send(template('14155550902', ['Bloom', 'Offers']))).toMatchObject({ status: 400, json: { error: { code: 130429 } } });
  expect(carrier.messages({ to: 'whatsapp:+14155550902' })).toHaveLength(0);
  const ok = await send(template('14155550902', ['Bloom', 'Offers']));
  expect(ok.status).toBe(200);
  expect(ok.json.messages[0].id).toMatch(/^wamid\./);
});

test('a template is delivered; text outside the window is accepted, then fails with 131047; 131026 for an unreachable contact', async () => {
  const delivered = await send({ ...template('14155550903', ['Bloom', 'Offers']), biz_opaque_callback_data: 'o=key-1' });
  expect(delivered.json).toMatchObject({ messaging_product: 'whatsapp', contacts: [{ wa_id: '14155550903' }] });
  const wamid = delivered.json.messages[0].id;
  await eventually('delivered', async () => statusesFor(wamid).some((s) => s.status === 'delivered'));
  expect(statusesFor(wamid).map((s) => s.status)).toEqual(['sent', 'delivered']);
  expect(statusesFor(wamid)[0]).toMatchObject({ biz_opaque_callback_data: 'o=key-1', recipient_id: '14155550903' });

  const text = await send({ messaging_product: 'whatsapp', to: '14155550903', type: 'text', text: { body: 'hello' } });
  expect(text.status).toBe(200);
  await eventually('failed', async () => statusesFor(text.json.messages[0].id).find((s) => s.status === 'failed'));
  expect(statusesFor(text.json.messages[0].id)[0].errors[0].code).toBe(131047);

  carrier.setRecipientBehaviour('+14155550904', { metaFailWith: 131026 });
  const unreachable = await send(template('14155550904', ['Bloom', 'Offers']));
  await eventually('failed', async () => statusesFor(unreachable.json.messages[0].id).find((s) => s.status === 'failed'));
  expect(statusesFor(unreachable.json.messages[0].id)[0].errors[0].code).toBe(131026);
});

test('every webhook is signed with the app secret over its exact bytes', async () => {
  await carrier.setMarketingPreference('+14155550905', '+15005550017', 'stop');
  expect(received.length).toBeGreaterThan(0);
  for (const r of received) expect(r.signature).toBe(`sha256=${createHmac('sha256', SECRETS.appSecret).update(r.body).digest('hex')}`);
  const preference = JSON.parse(received.at(-1)!.body);
  expect(preference).toMatchObject({ object: 'whatsapp_business_account', entry: [{ changes: [{ field: 'user_preferences', value: { user_preferences: [{ wa_id: '14155550905', category: 'marketing_messages', value: 'stop' }] } }] }] });
});
