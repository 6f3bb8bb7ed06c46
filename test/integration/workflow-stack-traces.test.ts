import { bundleWorkflowCode, DefaultLogger, type WorkflowBundle } from '@temporalio/worker';
import { sandboxPreloads } from '../../workers/bundle-options';
import { parseJourneyId } from '../../workflows/journey/contract';
import { withActivityWorker } from '../harness/activity-worker';
import { testWorkflowBundle } from '../harness/servers';
import { startTestStack, type TestStack } from '../harness/stack';
import { startJourney } from '../harness/stack-queries';

/**
 * The workflow sandbox drops stack frames by default (workflows/stack-trace-limit.ts, preloaded by
 * every bundle the product builds, the tests' included); WORKER_WORKFLOW_STACK_TRACES=on builds the
 * bundle without it, and the stack-trace query shows where a waiting journey is in its code again.
 */

jest.setTimeout(120_000);

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'wst', worker: false });
});
afterAll(async () => {
  await stack?.close();
});

async function stackTraceOfAJourney(bundle: WorkflowBundle | { codePath: string }, phone: string): Promise<string> {
  return withActivityWorker(
    stack,
    {},
    async () => {
      const journeyId = await startJourney(stack, { businessId: 'acme', contact: { phone }, categories: ['offers'], plan: [{ channel: 'sms', waitFor: '60s' }] });
      await stack.carrier.waitFor(() => stack.carrier.messages({ to: phone })[0], 15_000);
      const ids = parseJourneyId(journeyId)!;
      return stack.client.workflow.getHandle(ids.workflowId, ids.runId).query<string>('__stack_trace');
    },
    bundle,
  );
}

test('by default a waiting journey answers the stack-trace query without frames of its code', async () => {
  const trace = await stackTraceOfAJourney(testWorkflowBundle(), '+14155550193');
  expect(trace).not.toMatch(/workflows\/journey\//);
});

test('with stack traces on, the same query shows the journey waiting in its own code', async () => {
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), preloadModules: sandboxPreloads(true), logger: new DefaultLogger('WARN') });
  const trace = await stackTraceOfAJourney(bundle, '+14155550194');
  expect(trace).toMatch(/workflows\/journey\//);
});
