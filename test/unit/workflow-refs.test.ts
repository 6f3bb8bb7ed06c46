import * as workflows from '../../workflows';
import { campaignWorkflowRef } from '../../workflows/campaign/contract';
import { whatsappTierWorkflowRef } from '../../workflows/campaign/tier-contract';
import { directConsentWorkflowRef } from '../../workflows/direct/contract';
import { inboundWorkflowRef } from '../../workflows/inbound/contract';
import { journeyWorkflowRef } from '../../workflows/journey/contract';
import { optOutWorkflowRef } from '../../workflows/optout/contract';
import type { WorkflowRef } from '../../workflows/workflow-ref';

/** A ref's input and result types must be the workflow's own: this fails to compile when they drift. */
type Matches<W, R> = W extends (input: infer I) => Promise<infer O> ? (R extends WorkflowRef<I, O> ? true : false) : false;
const typed: [
  Matches<typeof workflows.journeyWorkflowV5, typeof journeyWorkflowRef>,
  Matches<typeof workflows.journeyWorkflowV4, typeof journeyWorkflowRef>,
  Matches<typeof workflows.journeyWorkflowV2, typeof journeyWorkflowRef>,
  Matches<typeof workflows.journeyWorkflow, typeof journeyWorkflowRef>,
  Matches<typeof workflows.optOutWorkflowV6, typeof optOutWorkflowRef>,
  Matches<typeof workflows.optOutWorkflowV4, typeof optOutWorkflowRef>,
  Matches<typeof workflows.optOutWorkflowV3, typeof optOutWorkflowRef>,
  Matches<typeof workflows.optOutWorkflow, typeof optOutWorkflowRef>,
  Matches<typeof workflows.inboundMessageWorkflow, typeof inboundWorkflowRef>,
  Matches<typeof workflows.campaignWorkflow, typeof campaignWorkflowRef>,
  Matches<typeof workflows.whatsappTierWorkflow, typeof whatsappTierWorkflowRef>,
  Matches<typeof workflows.directConsentWorkflow, typeof directConsentWorkflowRef>,
] = [true, true, true, true, true, true, true, true, true, true, true, true];

test.each([
  [journeyWorkflowRef, workflows.journeyWorkflowV5],
  [optOutWorkflowRef, workflows.optOutWorkflowV6],
  [inboundWorkflowRef, workflows.inboundMessageWorkflow],
  [campaignWorkflowRef, workflows.campaignWorkflow],
  [whatsappTierWorkflowRef, workflows.whatsappTierWorkflow],
  [directConsentWorkflowRef, workflows.directConsentWorkflow],
] as [WorkflowRef<unknown, unknown>, (...args: never[]) => unknown][])('the ref %# names the exported workflow function', (ref, fn) => {
  expect(ref.type).toBe(fn.name);
  expect(typed).not.toContain(false);
});
