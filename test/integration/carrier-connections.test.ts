import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startCarrier, type Carrier } from '../../dev/carrier/carrier';

const accountSid = 'AC' + 'c0ffee'.repeat(5) + '00';
const authToken = 'carrier-connections-token-0123456789';
const business = '+14155550100';
const contact = '+4915112345678';

/**
 * The carrier says, per webhook, whether it went over a connection opened for it or one kept alive;
 * bench:optout splits its acknowledgement times by that. Checked against the connections a real
 * HTTP server accepted.
 */
let server: http.Server;
let carrier: Carrier;
let accepted = 0;
let holdMs = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.writeHead(200, { 'Content-Type': 'text/xml' }).end('<Response/>'), holdMs));
  });
  server.on('connection', () => accepted++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/inbound`;
  carrier = await startCarrier({ httpPort: 0, smtpPort: 0, accountSid, authToken, inboundMessageUrl: url, statusCallbackDelayMs: 0 });
});

afterAll(async () => {
  await carrier.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

it('labels the first webhook new and the next, sent after it was answered, reused', async () => {
  const first = await carrier.sendInbound({ from: contact, to: business, body: 'hello' });
  const second = await carrier.sendInbound({ from: contact, to: business, body: 'again' });
  expect([first.status, second.status]).toEqual([200, 200]);
  expect(first.connection).toBe('new');
  expect(second.connection).toBe('reused');
  expect(accepted).toBe(1);
});

it('opens a connection per webhook while the kept-alive ones are busy, and says so', async () => {
  const before = accepted;
  holdMs = 300;
  try {
    const results = await Promise.all([0, 1, 2, 3].map((i) => carrier.sendInbound({ from: contact, to: business, body: `burst ${i}` })));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const opened = results.filter((r) => r.connection === 'new').length;
    // One kept-alive connection is free for the first of the four; the other three need their own.
    expect(opened).toBe(3);
    expect(accepted - before).toBe(opened);
  } finally {
    holdMs = 0;
  }
});
