import { condition, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import { LOCAL_STORE_ACTIVITY_OPTIONS, SEND_ACTIVITY_OPTIONS } from '../../workflows/activity-options';
import type { BareActivities } from './activities';
import { bareReplySignal, type BareJourneyInput, type BareJourneyResult, type BareReply } from './contract';

// The journey's own options: the same retry policies and timeouts, so only the work inside differs.
const { request, confirm } = proxyActivities<BareActivities>(SEND_ACTIVITY_OPTIONS);
const { record } = proxyLocalActivities<BareActivities>(LOCAL_STORE_ACTIVITY_OPTIONS);

export async function bareJourneyWorkflow(input: BareJourneyInput): Promise<BareJourneyResult> {
  let reply: BareReply | undefined;
  setHandler(bareReplySignal, (r) => {
    reply ??= r;
  });

  await request();
  if (!(await condition(() => reply !== undefined, input.waitForMs)) || !reply) return 'expired';
  await record(reply);
  if (reply.decision === 'decline') return 'declined';
  await confirm();
  return 'confirmed';
}
