import type { TestStack } from '../harness/stack';

/* Stack-level helpers shared by the browser tests and the pages integration tests (no browser here). */

/** Polls an async read until it yields something truthy. */
export async function eventually<T>(read: () => Promise<T | null | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** The consent overview as the API shows it: status per category, the ledger and the contact's messaging flag. */
export async function consentsOf(stack: TestStack, phone: string): Promise<{ byCat: Record<string, string>; events: any[]; messaging: string }> {
  const r = await stack.request('GET', `/v1/consents?businessId=acme&phone=${encodeURIComponent(phone)}`);
  if (r.status !== 200) throw new Error(`GET /v1/consents answered ${r.status}: ${JSON.stringify(r.body)}`);
  return { byCat: Object.fromEntries(r.body.categories.map((c: any) => [c.category, c.status])), events: r.body.events, messaging: r.body.messaging };
}

/** The journey as the API shows it; with `until`, polls until it reaches that status (or gives up and returns it). */
export async function journeyOf(stack: TestStack, journeyId: string, until?: string, timeoutMs = 15_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await stack.request('GET', `/v1/journeys/${journeyId}`);
    if (!until || r.body?.status === until || Date.now() > deadline) return r.body;
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Opts a contact in the ordinary way: an SMS request answered YES. */
export async function optInBySms(stack: TestStack, phone: string, categories: string[]): Promise<void> {
  const start = await stack.request('POST', '/v1/journeys', { businessId: 'acme', contact: { phone }, categories, plan: [{ channel: 'sms', waitFor: '30s' }] });
  if (start.status !== 202) throw new Error(`journey did not start: ${JSON.stringify(start.body)}`);
  await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 10_000);
  await stack.carrier.sendInbound({ from: phone, to: '+15005550006', body: 'YES' });
  const done = await journeyOf(stack, start.body.journeyId, 'confirmed');
  if (done.status !== 'confirmed') throw new Error(`journey ended as ${done.status}`);
}
