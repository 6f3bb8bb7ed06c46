import { startOnce, type TemporalAccess } from '../../services/temporal';
import { contactIdOf } from '../../store/models';
import { startJourneyWorkflow, startOptOutWorkflow, TASK_PRIORITIES } from '../../services/workflow-starts';
import { journeyWorkflowId, type JourneyInput } from '../../workflows/journey/contract';
import { optOutWorkflowId, type OptOutInput } from '../../workflows/optout/contract';
import { defineWorkflowRef } from '../../workflows/workflow-ref';
import { connectTestClient, testTemporalNamespace, uniqueName, type TestClient } from '../harness/servers';

/**
 * Urgent work goes ahead of a task queue's backlog: the server the harness starts (the dev server, or
 * the cluster) dispatches by priority; opt-outs start with the first priority, campaign journeys with
 * one below the default. No worker polls the queues here; the test takes the workflow tasks itself,
 * as a worker would, and looks at the order they come in.
 */

jest.setTimeout(60_000);

let temporal: TestClient;
beforeAll(async () => {
  temporal = await connectTestClient();
});
afterAll(async () => {
  await temporal?.close();
});

/**
 * A queue has several partitions; each poll takes the head of one of them, chosen at random, and
 * priority orders each partition. The urgent task is the head of its partition, so it comes at the
 * first poll that reaches that partition: within the first 30 polls in all but about 1 run in 5,000
 * (4 partitions). In order of arrival it would come after the 25 or so tasks queued before it in its
 * own partition, rarely before poll 50.
 */
const QUEUED_BEFORE = 100;
const WITHIN_FIRST = 30;
const backlogRef = defineWorkflowRef<string, void>('backlogOnly');

const phoneOf = (i: number) => `+1415555${String(1000 + i)}`;

function optOutInput(origin: string): OptOutInput {
  return {
    origin,
    businessId: 'acme',
    contactId: contactIdOf('acme', phoneOf(999)),
    phone: phoneOf(999),
    channel: 'sms',
    reason: 'opt-out keyword',
    source: { kind: 'keyword', reference: origin },
    receivedAt: new Date().toISOString(),
    payload: {},
    confirmOn: 'sms',
  };
}

function journeyInput(businessId: string, i: number, campaignId?: string): JourneyInput {
  return {
    businessId,
    contactId: contactIdOf(businessId, phoneOf(i)),
    contact: { phone: phoneOf(i) },
    categories: ['offers'],
    plan: [{ channel: 'sms', waitForMs: 60_000, remindAfterMs: [] }],
    ...(campaignId ? { campaignId, source: { kind: 'campaign', reference: campaignId } } : {}),
    requestedAt: new Date().toISOString(),
  };
}

/**
 * A start returns once the history is written; the server hands the workflow task to the task queue
 * after that, on its own time (seconds on a loaded machine). The test polls only once the queue
 * reports every task in its backlog, so the order is the queue's, not the order of arrival. The
 * server refreshes these figures every few seconds.
 */
async function waitUntilQueued(queue: string, count: number): Promise<void> {
  const { connection } = temporal;
  const deadline = Date.now() + 45_000;
  let queued = 0;
  while (Date.now() < deadline) {
    const described = await connection.workflowService.describeTaskQueue({ namespace: testTemporalNamespace(), taskQueue: { name: queue }, reportStats: true });
    queued = Number(described.stats?.approximateBacklogCount ?? 0);
    if (queued >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`task queue ${queue} reports ${queued} of ${count} workflow tasks in its backlog after 45 s`);
}

/** The workflow ids of the next `count` workflow tasks the queue hands out. */
async function takeTasks(queue: string, count: number): Promise<string[]> {
  const { connection } = temporal;
  const ids: string[] = [];
  while (ids.length < count) {
    const task = await connection.withDeadline(Date.now() + 10_000, () =>
      connection.workflowService.pollWorkflowTaskQueue({ namespace: testTemporalNamespace(), taskQueue: { name: queue }, identity: 'task-priority-test' }),
    );
    if (task.workflowExecution?.workflowId) ids.push(task.workflowExecution.workflowId);
  }
  return ids;
}

async function terminate(ids: string[]): Promise<void> {
  await Promise.all(ids.map((id) => temporal.client.workflow.getHandle(id).terminate('test done').catch(() => undefined)));
}

test('an opt-out started behind 100 queued workflows is among the first handed to a worker', async () => {
  const t: TemporalAccess = { client: temporal.client, taskQueue: uniqueName('prio') };
  const backlog = Array.from({ length: QUEUED_BEFORE }, (_, i) => `${t.taskQueue}-backlog-${i}`);
  for (const id of backlog) await startOnce(t, backlogRef, id, id);
  const origin = `sms.${uniqueName('SM')}`;
  expect((await startOptOutWorkflow(t, optOutInput(origin))).started).toBe(true);

  const described = await temporal.client.workflow.getHandle(optOutWorkflowId(origin)).describe();
  expect(described.raw.workflowExecutionInfo?.priority?.priorityKey).toBe(TASK_PRIORITIES.optOut);
  await waitUntilQueued(t.taskQueue, QUEUED_BEFORE + 1);
  expect(await takeTasks(t.taskQueue, WITHIN_FIRST)).toContain(optOutWorkflowId(origin));
  await terminate([...backlog, optOutWorkflowId(origin)]);
});

test("a journey started one by one goes ahead of a campaign's queued journeys", async () => {
  const t: TemporalAccess = { client: temporal.client, taskQueue: uniqueName('prio') };
  const businessId = uniqueName('biz');
  const campaign = Array.from({ length: QUEUED_BEFORE }, (_, i) => journeyInput(businessId, i, 'cmp_1'));
  for (const input of campaign) expect((await startJourneyWorkflow(t, input, 'REJECT_DUPLICATE')).started).toBe(true);
  const single = journeyInput(businessId, QUEUED_BEFORE);
  expect((await startJourneyWorkflow(t, single, 'REJECT_DUPLICATE')).started).toBe(true);

  const campaignIds = campaign.map((c) => journeyWorkflowId(c.businessId, c.contactId));
  const singleId = journeyWorkflowId(single.businessId, single.contactId);
  const described = await temporal.client.workflow.getHandle(campaignIds[0]).describe();
  expect(described.raw.workflowExecutionInfo?.priority?.priorityKey).toBe(TASK_PRIORITIES.campaignJourney);
  await waitUntilQueued(t.taskQueue, QUEUED_BEFORE + 1);
  expect(await takeTasks(t.taskQueue, WITHIN_FIRST)).toContain(singleId);
  await terminate([...campaignIds, singleId]);
});
