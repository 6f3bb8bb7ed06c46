/** What tests ask a running stack: starting a journey, polling journeys and campaigns, whether a workflow exists. */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestStack } from './stack';
import { sleep } from './wait';

/** Starts a journey with POST /v1/journeys (for business `acme` unless the body names another) and returns its id. */
export async function startJourney(stack: TestStack, body: Record<string, unknown>): Promise<string> {
  const r = await stack.request('POST', '/v1/journeys', { businessId: 'acme', ...body });
  expect(r.status).toBe(202);
  return r.body.journeyId;
}

/** Polls GET /v1/journeys/:id until `reached` holds for the journey; fails naming `what`, with what it last saw. */
export async function waitForJourney(stack: TestStack, journeyId: string, reached: (journey: any) => boolean, what: string, timeoutMs = 20_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await stack.request('GET', `/v1/journeys/${journeyId}`);
    if (r.status === 200 && reached(r.body)) return r.body;
    if (Date.now() > until) throw new Error(`journey ${journeyId} never reached ${what} (last answer ${r.status}): ${JSON.stringify(r.body)}`);
    await sleep(100);
  }
}

/** Polls GET /v1/journeys/:id until the journey reaches `status`. */
export function waitForJourneyStatus(stack: TestStack, journeyId: string, status: string, timeoutMs = 20_000): Promise<any> {
  return waitForJourney(stack, journeyId, (journey) => journey.status === status, `status ${status}`, timeoutMs);
}

/** The journey as the API shows it; with `until`, polls until it reaches that status (or gives up and returns it, for the test to assert on). */
export async function journeyOf(stack: TestStack, journeyId: string, until?: string, timeoutMs = 15_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await stack.request('GET', `/v1/journeys/${journeyId}`);
    if (!until || r.body?.status === until || Date.now() > deadline) return r.body;
    await sleep(100);
  }
}

/** Polls GET /v1/campaigns/:id until `reached` holds for the campaign; fails with what it last saw. */
export async function waitForCampaign(stack: TestStack, campaignId: string, reached: (campaign: any) => boolean, timeoutMs = 40_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await stack.request('GET', `/v1/campaigns/${campaignId}`);
    if (r.status === 200 && reached(r.body)) return r.body;
    if (Date.now() > deadline) throw new Error(`campaign ${campaignId} never reached the expected state (last answer ${r.status}): ${JSON.stringify(r.body)}`);
    await sleep(100);
  }
}

/** Whether Temporal knows a workflow with this id (running or closed) on this stack's namespace. */
export async function workflowExists(stack: TestStack, workflowId: string): Promise<boolean> {
  try {
    await stack.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}
