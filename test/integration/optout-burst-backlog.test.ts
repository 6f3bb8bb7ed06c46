import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { readBlocked } from '../../store/blocks';
import { contactIdOf } from '../../store/models';
import { freshPhones } from '../harness/contact';
import { startTestStack, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, type TestStack } from '../harness/stack';
import { eventually } from '../harness/wait';

/**
 * Twilio gives up on a webhook after 15 s and never sends it again. When a burst arrives faster than
 * a busy API takes connections, the kernel holds them for the API; the ones it cannot hold are refused
 * before the API sees a byte, and a STOP among them is lost. Here the API's process is held busy while
 * a client in another process opens more connections than Node's default backlog (511), then sends
 * STOPs, and gives up on each before the API could answer: every STOP must still take effect.
 */

jest.setTimeout(120_000);

const SMS_SENDER = '+15005550006';
/** Connections ahead of the STOPs: more than Node's default backlog of 511. */
const AHEAD = 600;
const STOPS = 5;
const CLIENT_TIMEOUT_MS = 2_000;
/** Longer than the client waits, so no STOP can be answered before its client gave up. */
const BUSY_MS = 5_000;
const phoneOf = freshPhones('+1415558');

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ prefix: 'oobacklog', worker: false });
});
afterAll(async () => {
  await stack?.close();
});

/**
 * Opens `ahead` connections (each a GET the API answers 404), then posts each STOP on a connection of
 * its own, giving up on every request after timeoutMs; prints how many STOPs were answered.
 */
const CLIENT = `
const http = require('node:http');
const [base, timeoutMs, ahead, stops] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), JSON.parse(process.argv[4])];
let left = ahead + stops.length, answered = 0;
const finish = () => { if (--left === 0) { console.log(JSON.stringify({ answered })); process.exit(0); } };
const send = (path, method, headers, body, isStop) => {
  const req = http.request(base + path, { method, agent: false, timeout: timeoutMs, headers }, (res) => { if (isStop) answered++; res.resume(); res.on('end', finish); res.on('error', finish); });
  req.on('timeout', () => req.destroy(new Error('gave up')));
  req.on('error', finish);
  req.end(body);
};
for (let i = 0; i < ahead; i++) send('/no-such-page-' + i, 'GET', {}, undefined, false);
for (const { body, signature } of stops) send('/webhooks/twilio/messaging', 'POST', { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), 'x-twilio-signature': signature }, body, true);
`;

function busyFor(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // Holds this process, and the API in it, as a saturated event loop would: no connection is taken.
  }
}

test('STOPs behind more connections than a default backlog, sent while the API is too busy to take them, all take effect', async () => {
  const url = `${stack.apiUrl}/webhooks/twilio/messaging`;
  const phones = Array.from({ length: STOPS }, () => phoneOf());
  const stops = phones.map((phone) => {
    const params = { MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: TEST_ACCOUNT_SID, From: phone, To: SMS_SENDER, Body: 'STOP', NumMedia: '0' };
    return { body: new URLSearchParams(params).toString(), signature: twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, url, params) };
  });
  const client = spawn(process.execPath, ['-e', CLIENT, stack.apiUrl, String(CLIENT_TIMEOUT_MS), String(AHEAD), JSON.stringify(stops)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  client.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => client.on('exit', resolve));
  busyFor(BUSY_MS);
  expect(await exited).toBe(0);
  // No STOP was answered before its client gave up: the burst really was more than the API could take.
  expect(JSON.parse(out)).toEqual({ answered: 0 });

  for (const phone of phones) {
    const contactId = contactIdOf('acme', phone);
    // The block and the ledger are written side by side, and no answer told the client when both were done.
    const ledgered = async () => (await stack.store.consentEvents.countDocuments({ contactId, type: 'opted_out' })) >= 3;
    await eventually(`the STOP of ${contactId} to block it and reach the ledger`, async () => (await readBlocked(stack.store, contactId)) && (await ledgered()), 30_000);
    expect(await stack.store.consentEvents.countDocuments({ contactId, type: 'opted_out' })).toBe(3);
  }
});
