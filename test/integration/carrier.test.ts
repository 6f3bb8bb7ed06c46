import http from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { createMailer } from '../../activities/providers/mailer';
import { createTwilioClient, twilioErrorCode, twilioHttpStatus } from '../../activities/providers/twilio';
import { startCarrier } from '../../dev/carrier/carrier';
import type { Carrier } from '../../dev/carrier/carrier';

const accountSid = 'AC' + 'c0ffee'.repeat(5) + '00';
const authToken = 'carrier-test-auth-token-0123456789';
const business = '+14155550100';
const contact = '+4915112345678';
const templateSid = 'HX' + 'a1'.repeat(16);

interface Received {
  path: string;
  method: string;
  params: Record<string, string>;
  signatureValid: boolean;
  rawBody: string;
}

/** Stands in for our API: records what the carrier sends and answers IVR TwiML. */
class Receiver {
  readonly requests: Received[] = [];
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  to(path: string): Received[] {
    return this.requests.filter((r) => r.path === path);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const params = Object.fromEntries(new URLSearchParams(rawBody));
      const url = `${this.url}${req.url}`;
      const signature = String(req.headers['x-twilio-signature'] ?? '');
      const signatureValid = twilio.validateRequest(authToken, signature, url, params);
      const path = new URL(url).pathname;
      this.requests.push({ path, method: req.method ?? '', params, signatureValid, rawBody });
      const twiml = (xml: string) => res.writeHead(200, { 'Content-Type': 'text/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>${xml}`);
      if (path === '/ivr/start') {
        twiml(
          '<Response><Gather numDigits="1" action="/ivr/answer" timeout="5">' +
            '<Say>Acme would like to send you order updates on WhatsApp. Press 1 to agree, 2 to decline.</Say>' +
            '</Gather><Say>We did not get an answer. Goodbye.</Say></Response>',
        );
      } else if (path === '/ivr/answer') {
        twiml(`<Response><Say>You pressed ${params.Digits}. Thank you &amp; goodbye.</Say><Hangup/></Response>`);
      } else if (path === '/inbound') {
        res.writeHead(signatureValid ? 200 : 403, { 'Content-Type': 'text/xml' }).end('<Response/>');
      } else {
        res.writeHead(204).end();
      }
    });
  }
}

let carrier: Carrier;
let receiver: Receiver;
let client: ReturnType<typeof createTwilioClient>;

beforeAll(async () => {
  receiver = new Receiver();
  await receiver.start();
  carrier = await startCarrier({
    accountSid,
    authToken,
    httpPort: 0,
    smtpPort: 0,
    statusCallbackDelayMs: 5,
    inboundMessageUrl: `${receiver.url}/inbound`,
    templateContentSids: [templateSid],
  });
  client = createTwilioClient({ accountSid, authToken, apiBaseUrl: carrier.httpUrl });
});

afterEach(() => {
  carrier.reset();
  receiver.requests.length = 0;
});

afterAll(async () => {
  await carrier.close();
  await receiver.close();
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the request to fail');
}

describe('Twilio messaging through the real twilio client', () => {
  it('sends an SMS created queued, reports sent → delivered (no callback for the initial status) in signed status callbacks, and serves it back', async () => {
    const sent = await client.messages.create({ to: contact, from: business, body: 'Acme: reply YES for WhatsApp updates', statusCallback: `${receiver.url}/status` });

    expect(sent.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(sent).toMatchObject({ status: 'queued', direction: 'outbound-api', to: contact, from: business, errorCode: null, numSegments: '1', accountSid });
    expect(sent.dateCreated).toBeInstanceOf(Date);
    expect(carrier.messages({ to: contact })).toEqual([expect.objectContaining({ sid: sent.sid, body: 'Acme: reply YES for WhatsApp updates', channel: 'sms' })]);

    await carrier.waitFor(() => receiver.to('/status').length === 2);
    const callbacks = receiver.to('/status');
    expect(callbacks.map((c) => c.params.MessageStatus)).toEqual(['sent', 'delivered']);
    expect(callbacks.every((c) => c.signatureValid)).toBe(true);
    expect(callbacks[1].params).toMatchObject({ MessageSid: sent.sid, AccountSid: accountSid, To: contact, From: business, SmsStatus: 'delivered' });

    const fetched = await client.messages(sent.sid).fetch();
    expect(fetched.status).toBe('delivered');
  });

  it('sends an approved WhatsApp template outside the 24-hour window and renders its variables', async () => {
    const sent = await client.messages.create({
      to: `whatsapp:${contact}`,
      from: `whatsapp:${business}`,
      contentSid: templateSid,
      contentVariables: JSON.stringify({ 1: 'Acme', 2: 'order updates' }),
      statusCallback: `${receiver.url}/status`,
    });
    expect(sent.to).toBe(`whatsapp:${contact}`);

    const delivered = await carrier.waitFor(() => carrier.messages({ contact }).find((m) => m.status === 'delivered'));
    expect(delivered).toMatchObject({ channel: 'whatsapp', contentSid: templateSid, contentVariables: { 1: 'Acme', 2: 'order updates' } });
    expect(delivered.renderedText).toContain('Acme');
    expect(delivered.renderedText).toContain('order updates');
    expect(delivered.buttons.map((b) => b.payload)).toEqual(['yes', 'no']);
  });

  it('accepts a freeform WhatsApp message outside the window and then fails it with 63016, like Twilio', async () => {
    const freeform = await client.messages.create({ to: `whatsapp:${contact}`, from: `whatsapp:${business}`, body: 'Hi!', statusCallback: `${receiver.url}/status` });
    expect(freeform.status).toBe('queued');
    await carrier.waitFor(() => receiver.to('/status').find((c) => c.params.MessageStatus === 'failed'));
    expect(receiver.to('/status').find((c) => c.params.MessageStatus === 'failed')?.params.ErrorCode).toBe('63016');
    const failed = await client.messages(freeform.sid).fetch();
    expect(failed).toMatchObject({ status: 'failed', errorCode: 63016 });

    const notATemplate = await client.messages.create({ to: `whatsapp:${contact}`, from: `whatsapp:${business}`, contentSid: 'HX' + 'b2'.repeat(16) });
    await carrier.waitFor(() => carrier.messages().find((m) => m.sid === notATemplate.sid && m.status === 'failed'));

    await carrier.sendInbound({ from: `whatsapp:${contact}`, to: `whatsapp:${business}`, body: 'hello' });
    const inWindow = await client.messages.create({ to: `whatsapp:${contact}`, from: `whatsapp:${business}`, body: 'Thanks for your message' });
    const delivered = await carrier.waitFor(() => carrier.messages().find((m) => m.sid === inWindow.sid && m.status === 'delivered'));
    expect(delivered.errorCode).toBeNull();
  });

  it('rejects an invalid number with a RestException carrying 21211', async () => {
    const err = await rejection(client.messages.create({ to: '12345', from: business, body: 'x' }));
    expect(err).toBeInstanceOf(twilio.RestException);
    expect(twilioErrorCode(err)).toBe(21211);
    expect(twilioHttpStatus(err)).toBe(400);
    expect(carrier.messages()).toHaveLength(0);
  });

  it('answers the other validation and recipient errors with Twilio codes', async () => {
    expect(twilioErrorCode(await rejection(client.messages.create({ to: contact, from: business })))).toBe(21602);
    expect(twilioErrorCode(await rejection(client.messages.create({ to: contact, body: 'x' } as never)))).toBe(21603);

    carrier.setRecipientBehaviour(contact, { unsubscribed: true });
    const unsubscribed = await rejection(client.messages.create({ to: contact, from: business, body: 'x' }));
    expect([twilioHttpStatus(unsubscribed), twilioErrorCode(unsubscribed)]).toEqual([400, 21610]);

    carrier.setRecipientBehaviour(contact, { failWith: 30003 });
    const accepted = await client.messages.create({ to: contact, from: business, body: 'x', statusCallback: `${receiver.url}/status` });
    await carrier.waitFor(() => receiver.to('/status').find((c) => c.params.MessageStatus === 'undelivered'));
    expect((await client.messages(accepted.sid).fetch()).errorCode).toBe(30003);

    const stranger = createTwilioClient({ accountSid, authToken: 'not-the-right-token-at-all', apiBaseUrl: carrier.httpUrl });
    const denied = await rejection(stranger.messages.create({ to: contact, from: business, body: 'x' }));
    expect([twilioHttpStatus(denied), twilioErrorCode(denied)]).toEqual([401, 20003]);
    expect(twilioErrorCode(await rejection(client.messages('SM' + '0'.repeat(32)).fetch()))).toBe(20404);
  });

  it('lets a test inject a 429 that the client sees, once', async () => {
    carrier.injectFault({ target: 'messages', status: 429 });
    const limited = await rejection(client.messages.create({ to: contact, from: business, body: 'x' }));
    expect([twilioHttpStatus(limited), twilioErrorCode(limited)]).toEqual([429, 20429]);
    expect(carrier.messages()).toHaveLength(0);
    await expect(client.messages.create({ to: contact, from: business, body: 'x' })).resolves.toMatchObject({ status: 'queued' });
  });

  it('processes a delayed request even when the client gave up waiting', async () => {
    const impatient = createTwilioClient({ accountSid, authToken, apiBaseUrl: carrier.httpUrl, timeoutMs: 100 });
    carrier.injectFault({ target: 'messages', delayMs: 400 });
    const err = await rejection(impatient.messages.create({ to: contact, from: business, body: 'late' }));
    expect(twilioErrorCode(err)).toBeUndefined();
    expect(carrier.messages({ to: contact })).toHaveLength(1);
  });

  it('answers a 500 after creating the message when the fault is applied, or before creating it when not', async () => {
    carrier.injectFault({ target: 'messages', request: 'create', status: 500, applied: true });
    const lost = await rejection(client.messages.create({ to: contact, from: business, body: 'taken', statusCallback: `${receiver.url}/status` }));
    expect([twilioHttpStatus(lost), twilioErrorCode(lost)]).toEqual([500, 20500]);
    const [created] = carrier.messages({ to: contact });
    expect(created.body).toBe('taken');
    await carrier.waitFor(() => receiver.to('/status').some((c) => c.params.MessageSid === created.sid && c.params.MessageStatus === 'delivered'));

    carrier.injectFault({ target: 'messages', request: 'create', status: 503 });
    expect(twilioHttpStatus(await rejection(client.messages.create({ to: contact, from: business, body: 'dropped' })))).toBe(503);
    expect(carrier.messages({ to: contact }).map((m) => m.body)).toEqual(['taken']);
  });

  it('sends no status callbacks for a message whose fault says they were lost', async () => {
    carrier.injectFault({ target: 'messages', status: 503, applied: true, noCallbacks: true });
    await rejection(client.messages.create({ to: contact, from: business, body: 'silent', statusCallback: `${receiver.url}/status` }));
    const silent = await carrier.waitFor(() => carrier.messages({ to: contact }).find((m) => m.status === 'delivered'));
    expect(silent.callbacks).toEqual([]);
    expect(receiver.to('/status')).toEqual([]);
  });

  it('lists messages by To, From and DateSent bounds, newest first, and a create fault leaves reads alone', async () => {
    const before = new Date(Date.now() - 1_000);
    const first = await client.messages.create({ to: contact, from: business, body: 'one' });
    const second = await client.messages.create({ to: `whatsapp:${contact}`, from: `whatsapp:${business}`, contentSid: templateSid, contentVariables: JSON.stringify({ 1: 'Acme' }) });
    const third = await client.messages.create({ to: contact, from: business, body: 'three' });
    await client.messages.create({ to: '+4915112345679', from: business, body: 'someone else' });
    carrier.injectFault({ target: 'messages', request: 'create', status: 500 });

    const listed = await client.messages.list({ to: contact, from: business, dateSentAfter: before });
    expect(listed.map((m) => m.sid)).toEqual([third.sid, first.sid]);
    expect(listed[1]).toMatchObject({ body: 'one', direction: 'outbound-api', to: contact, from: business });
    expect(listed[1].dateCreated).toBeInstanceOf(Date);
    expect((await client.messages.list({ to: `whatsapp:${contact}` })).map((m) => m.sid)).toEqual([second.sid]);
    expect(await client.messages.list({ to: contact, dateSentAfter: new Date(Date.now() + 60_000) })).toEqual([]);
    expect(await client.messages.list({ to: contact, dateSentBefore: new Date(before.getTime() - 60_000) })).toEqual([]);
    expect((await client.messages.list({ to: contact, pageSize: 1 })).map((m) => m.sid)).toEqual([third.sid, first.sid]);
    expect((await client.messages.list({ to: contact, limit: 1 })).map((m) => m.sid)).toEqual([third.sid]);

    const day = new Date().toISOString().slice(0, 10);
    const byDay = await fetch(`${carrier.httpUrl}/2010-04-01/Accounts/${accountSid}/Messages.json?To=${encodeURIComponent(contact)}&DateSent=${day}`, {
      headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}` },
    });
    expect(((await byDay.json()) as { messages: { sid: string }[] }).messages.map((m) => m.sid)).toEqual([third.sid, first.sid]);
    expect(twilioHttpStatus(await rejection(client.messages.create({ to: contact, from: business, body: 'x' })))).toBe(500);
  });
});

describe('inbound messages', () => {
  it('posts a WhatsApp button tap signed like Twilio and opens the window', async () => {
    const result = await carrier.sendInbound({ from: `whatsapp:${contact}`, to: `whatsapp:${business}`, buttonPayload: 'yes', buttonText: 'Yes' });

    expect(result.status).toBe(200);
    expect(result.messageSid).toMatch(/^SM[0-9a-f]{32}$/);
    const [delivered] = receiver.to('/inbound');
    expect(delivered.signatureValid).toBe(true);
    expect(twilio.validateRequest('some-other-token-xxxxxxxx', twilio.getExpectedTwilioSignature(authToken, `${receiver.url}/inbound`, delivered.params), `${receiver.url}/inbound`, delivered.params)).toBe(false);
    expect(delivered.params).toMatchObject({
      MessageSid: result.messageSid,
      SmsMessageSid: result.messageSid,
      AccountSid: accountSid,
      From: `whatsapp:${contact}`,
      To: `whatsapp:${business}`,
      Body: 'Yes',
      NumMedia: '0',
      WaId: contact.slice(1),
      MessageType: 'button',
      ButtonPayload: 'yes',
      ButtonText: 'Yes',
    });
    expect(carrier.messages({ direction: 'inbound' })).toEqual([expect.objectContaining({ sid: result.messageSid, buttonPayload: 'yes' })]);
  });

  it('posts an SMS reply without WhatsApp fields', async () => {
    const result = await carrier.sendInbound({ from: contact, to: business, body: 'STOP' });
    expect(result.status).toBe(200);
    const [delivered] = receiver.to('/inbound');
    expect(delivered.signatureValid).toBe(true);
    expect(delivered.params).toMatchObject({ From: contact, To: business, Body: 'STOP' });
    expect(delivered.params.WaId).toBeUndefined();
  });
});

describe('e-mail through the SMTP listener', () => {
  it('stores a nodemailer message with its headers and links, and performs a one-click unsubscribe', async () => {
    const mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${carrier.smtpPort}` });
    await mailer.sendMail({
      from: 'Acme <consent@acme.test>',
      to: 'Ada@Example.org',
      subject: 'Confirm WhatsApp updates from Acme',
      text: 'Confirm here: http://127.0.0.1:3000/c/abc',
      html: '<p><a href="http://127.0.0.1:3000/c/abc?x=1&amp;y=2">Confirm</a></p>',
      headers: {
        'List-Unsubscribe': `<${receiver.url}/unsubscribe/abc>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    });
    mailer.close();

    const [email] = carrier.emails({ to: 'ada@example.org' });
    expect(email).toMatchObject({ from: 'consent@acme.test', to: ['ada@example.org'], subject: 'Confirm WhatsApp updates from Acme' });
    expect(email.text).toContain('Confirm here');
    expect(email.links).toEqual(['http://127.0.0.1:3000/c/abc?x=1&y=2', 'http://127.0.0.1:3000/c/abc']);
    expect(email.headers['list-unsubscribe']).toBe(`<${receiver.url}/unsubscribe/abc>`);
    expect(email.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');

    const answer = await carrier.oneClickUnsubscribe(email.id);
    expect(answer.status).toBe(204);
    expect(receiver.to('/unsubscribe/abc')).toEqual([expect.objectContaining({ method: 'POST', rawBody: 'List-Unsubscribe=One-Click' })]);
  });
});

describe('IVR calls', () => {
  async function ivrCall() {
    const call = await client.calls.create({ to: contact, from: business, url: `${receiver.url}/ivr/start`, statusCallback: `${receiver.url}/call-status` });
    expect(call.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(call.status).toBe('queued');
    await carrier.waitFor(() => carrier.calls().find((c) => c.sid === call.sid && c.gather));
    return call.sid;
  }

  it('fetches TwiML, waits at the Gather and posts the pressed key to the action, signed', async () => {
    const sid = await ivrCall();
    const [fetch] = receiver.to('/ivr/start');
    expect(fetch.signatureValid).toBe(true);
    expect(fetch.params).toMatchObject({ CallSid: sid, AccountSid: accountSid, From: business, To: contact, CallStatus: 'in-progress', Direction: 'outbound-api' });

    const ended = await carrier.pressKeys(sid, '1');

    const [answer] = receiver.to('/ivr/answer');
    expect(answer.signatureValid).toBe(true);
    expect(answer.params).toMatchObject({ CallSid: sid, Digits: '1' });
    expect(ended.status).toBe('completed');
    expect(ended.transcript.filter((t) => t.kind === 'say').map((t) => t.text)).toEqual([
      'Acme would like to send you order updates on WhatsApp. Press 1 to agree, 2 to decline.',
      'You pressed 1. Thank you & goodbye.',
    ]);
    await carrier.waitFor(() => receiver.to('/call-status').length === 1);
    expect(receiver.to('/call-status')[0].params).toMatchObject({ CallSid: sid, CallStatus: 'completed' });
    expect(receiver.to('/call-status')[0].signatureValid).toBe(true);
    expect((await client.calls(sid).fetch()).status).toBe('completed');
  });

  it('lists calls by To and From, newest first', async () => {
    const sid = await ivrCall();
    const listed = await client.calls.list({ to: contact, from: business });
    expect(listed.map((c) => c.sid)).toEqual([sid]);
    expect(listed[0]).toMatchObject({ direction: 'outbound-api', to: contact, from: business });
    expect(await client.calls.list({ to: '+4915112345679' })).toEqual([]);
    await carrier.hangUp(sid);
  });

  it('continues after the Gather when the contact presses nothing', async () => {
    const sid = await ivrCall();
    const ended = await carrier.letGatherTimeOut(sid);
    expect(receiver.to('/ivr/answer')).toHaveLength(0);
    expect(ended.status).toBe('completed');
    expect(ended.transcript.map((t) => t.text)).toContain('We did not get an answer. Goodbye.');
  });

  it('ends a call with no-answer when the contact does not pick up', async () => {
    carrier.setRecipientBehaviour(contact, { callOutcome: 'no-answer' });
    const call = await client.calls.create({ to: contact, from: business, url: `${receiver.url}/ivr/start`, statusCallback: `${receiver.url}/call-status` });
    await carrier.waitFor(() => receiver.to('/call-status').length === 1);
    expect(receiver.to('/call-status')[0].params).toMatchObject({ CallSid: call.sid, CallStatus: 'no-answer' });
    expect(receiver.to('/ivr/start')).toHaveLength(0);
  });
});

describe('inspection API and page', () => {
  it('lists messages as JSON and renders the page with escaped content', async () => {
    await client.messages.create({ to: contact, from: business, body: '<script>alert(1)</script>' });
    const listed = (await (await fetch(`${carrier.httpUrl}/_carrier/messages?to=${encodeURIComponent(contact)}`)).json()) as Array<{ body: string }>;
    expect(listed.map((m) => m.body)).toEqual(['<script>alert(1)</script>']);

    const page = await (await fetch(`${carrier.httpUrl}/`)).text();
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain('<script>alert(1)');
  });

  it('sends an inbound reply from the page form and redirects back to the contact', async () => {
    const response = await fetch(`${carrier.httpUrl}/ui/inbound`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ from: contact, to: business, channel: 'sms', body: 'YES' }).toString(),
      redirect: 'manual',
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toMatch(/^\/\?notice=.*#c--4915112345678$/);
    expect(receiver.to('/inbound')[0].params.Body).toBe('YES');
  });

  it('reports a wrong inspection request clearly', async () => {
    const response = await fetch(`${carrier.httpUrl}/_carrier/faults`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ target: 'sms' }) });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain('target');
  });
});
