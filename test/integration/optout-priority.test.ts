import { startOnce, type TemporalAccess } from '../../services/temporal';
import { startOptOutWorkflow, TASK_PRIORITIES } from '../../services/workflow-starts';
import { optOutWorkflowId, type OptOutInput } from '../../workflows/optout/contract';
import { defineWorkflowRef } from '../../workflows/workflow-ref';
import { connectTestClient, testTemporalNamespace, uniqueName, type TestClient } from '../harness/servers';

/**
 * An opt-out's workflow goes ahead of a task queue's backlog: the server the harness starts (the dev
 * server, or the cluster) dispatches by priority, and opt-outs start with the first one. No worker
 * polls the queue here; the test takes the workflow tasks itself, as a worker would, and looks at
 * the order they come in.
 */

jest.setTimeout(60_000);

let temporal: TestClient;
beforeAll(async () => {
  temporal = await connectTestClient();
});
afterAll(async () => {
  await temporal?.close();
});

const QUEUED_BEFORE = 30;
const backlogRef = defineWorkflowRef<string, void>('backlogOnly');

function optOutInput(origin: string): OptOutInput {
  return {
    origin,
    businessId: 'acme',
    contactId: 'acme:+14155550199',
    phone: '+14155550199',
    channel: 'sms',
    reason: 'opt-out keyword',
    source: { kind: 'keyword', reference: origin },
    receivedAt: new Date().toISOString(),
    payload: {},
    confirmOn: 'sms',
  };
}

/** The workflow ids of the next `count` workflow tasks the queue hands out. */
async function takeTasks(queue: string, count: number): Promise<string[]> {
  const { connection } = temporal;
  const ids: string[] = [];
  while (ids.length < count) {
    const task = await connection.withDeadline(Date.now() + 10_000, () =>
      connection.workflowService.pollWorkflowTaskQueue({ namespace: testTemporalNamespace(), taskQueue: { name: queue }, identity: 'optout-priority-test' }),
    );
    if (task.workflowExecution?.workflowId) ids.push(task.workflowExecution.workflowId);
  }
  return ids;
}

test('an opt-out started behind 30 queued workflows is among the first handed to a worker', async () => {
  const t: TemporalAccess = { client: temporal.client, taskQueue: uniqueName('prio') };
  const backlog = Array.from({ length: QUEUED_BEFORE }, (_, i) => `${t.taskQueue}-backlog-${i}`);
  for (const id of backlog) await startOnce(t, backlogRef, id, id);
  const origin = `sms.${uniqueName('SM')}`;
  const started = await startOptOutWorkflow(t, optOutInput(origin));
  expect(started.started).toBe(true);

  const described = await temporal.client.workflow.getHandle(optOutWorkflowId(origin)).describe();
  expect(described.raw.workflowExecutionInfo?.priority?.priorityKey).toBe(TASK_PRIORITIES.optOut);

  // A queue has several partitions and priority orders each one, so the opt-out comes within the
  // first few polls, not always the first; in order of arrival it would come after most of the 30.
  const first = await takeTasks(t.taskQueue, 8);
  expect(first).toContain(optOutWorkflowId(origin));

  for (const id of [...backlog, optOutWorkflowId(origin)]) await temporal.client.workflow.getHandle(id).terminate('test done').catch(() => undefined);
});
