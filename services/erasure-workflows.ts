import type { WorkflowExecutionInfo } from '@temporalio/client';
import { campaignIdsOf } from '../store/erasure';
import { campaignWorkflowId } from '../workflows/campaign/contract';
import { journeyWorkflowId } from '../workflows/journey/contract';
import { inboundWorkflowId } from '../workflows/inbound/contract';
import { OptinContact } from '../workflows/search-attributes';
import { optOutIdsOf, type SubjectKey } from '../store/subject';
import type { ServiceDeps } from './deps';
import { isClosedWorkflow } from './temporal';

/** Temporal's reason on a workflow erasure ended: no personal data, it stays in nothing (the history goes). */
const TERMINATE_REASON = 'the contact asked to be erased';

const quoted = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;

async function runsOf(deps: ServiceDeps, query: string): Promise<WorkflowExecutionInfo[]> {
  const runs: WorkflowExecutionInfo[] = [];
  for await (const run of deps.client.workflow.list({ query })) runs.push(run);
  return runs;
}

/**
 * The ids of every workflow that carried the contact's data: those tagged with its contact id (journeys,
 * direct consents, opt-outs, inbound messages), and, for runs started before opt-outs and inbound
 * messages were tagged, the ids the store knows (the journey's, each inbound message's, each opt-out's).
 * Also the finished campaigns that held a row of theirs: a campaign's history carries its rows (read
 * and started in batches), while its view and counts live in the store, so the history goes whole.
 */
async function workflowIdsOf(deps: ServiceDeps, s: SubjectKey): Promise<Set<string>> {
  const ids = new Set<string>([journeyWorkflowId(s.businessId, s.contactId)]);
  for (const run of await runsOf(deps, `${OptinContact.name} = ${quoted(s.contactId)}`)) ids.add(run.workflowId);
  const [journeys, inbound, optOutIds, campaignIds] = await Promise.all([
    deps.store.journeys.find({ businessId: s.businessId, contactId: s.contactId }).lean(),
    deps.store.inbound.find({ businessId: s.businessId, contactId: s.contactId }).lean(),
    optOutIdsOf(deps.store, s),
    campaignIdsOf(deps.store, s),
  ]);
  for (const id of campaignIds) ids.add(campaignWorkflowId(id));
  for (const j of journeys) ids.add(j.workflowId);
  for (const m of inbound) ids.add(inboundWorkflowId(m._id));
  for (const id of optOutIds) ids.add(id);
  return ids;
}

/**
 * Ends each of the contact's running workflows, then deletes every run's history and visibility record.
 * Journeys first: an inbound message's workflow may signal its journey while both are being removed.
 */
export async function deleteContactWorkflows(deps: ServiceDeps, s: SubjectKey): Promise<{ deleted: number; terminated: number }> {
  const ids = [...(await workflowIdsOf(deps, s))].sort((a, b) => Number(b.startsWith('journey')) - Number(a.startsWith('journey')));
  let deleted = 0;
  let terminated = 0;
  for (const workflowId of ids) {
    let runs: Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'status'>[] = await runsOf(deps, `WorkflowId = ${quoted(workflowId)}`);
    if (runs.length === 0) {
      // Visibility lags a start by a moment; the run itself is there at once.
      const latest = await deps.client.workflow.getHandle(workflowId).describe().catch((err: unknown) => {
        if (isClosedWorkflow(err)) return undefined;
        throw err;
      });
      runs = latest ? [latest] : [];
    }
    for (const run of runs) {
      try {
        if (run.status.name === 'RUNNING') {
          await deps.client.workflow.getHandle(run.workflowId, run.runId).terminate(TERMINATE_REASON);
          terminated += 1;
        }
      } catch (err) {
        if (!isClosedWorkflow(err)) throw err;
      }
      try {
        await deps.client.workflowService.deleteWorkflowExecution({ namespace: deps.client.options.namespace, workflowExecution: { workflowId: run.workflowId, runId: run.runId } });
        deleted += 1;
      } catch (err) {
        if (!isClosedWorkflow(err)) throw err;
      }
    }
  }
  return { deleted, terminated };
}
