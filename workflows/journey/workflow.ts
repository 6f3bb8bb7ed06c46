import { patched } from '@temporalio/workflow';
import type { JourneyInput, JourneyState } from './contract';
import { runJourney } from './body';
import { JOURNEY_QUIET_HOURS_PATCH } from './deferral';
import { consentSteps, localConsentSteps } from './run';

/*
 * The journey has five workflow types. Every new journey starts as journeyWorkflowV5, whose code
 * takes each newer branch outright: a patch check records a marker and a TemporalChangeVersion
 * search-attribute upsert in every new run (two history events and a visibility write each), 8 of a
 * confirmed journey's 36 events for four patches. journeyWorkflowV4 (an opt-out's step always in the
 * opt-out's own workflow), journeyWorkflowV3 (its sends as activities),
 * journeyWorkflowV2 (store steps around the confirmation) and journeyWorkflow (asking `patched` as
 * before) stay registered for runs started before; drop each once none is open
 * (docs/architecture.md#changing-workflow-code).
 */

/** A failed delivery or an unanswered call reported before its send returned still ends the step. */
export const EARLY_PROVIDER_REPORTS_PATCH = 'journey-early-provider-reports';

/**
 * The journey begins inside its first send (no local activity, so no action and no workflow task of
 * its own), and the first step does not repeat the channel the start already gave ops.
 */
export const LEAN_JOURNEY_START_PATCH = 'journey-lean-start';

export async function journeyWorkflowV5(input: JourneyInput): Promise<JourneyState> {
  return runJourney(input, { keepEarlyReports: true, leanStart: true, policed: true, storeSteps: localConsentSteps, oneStepConfirm: true, sendsInTask: true, carriesOptOuts: true });
}

export async function journeyWorkflowV4(input: JourneyInput): Promise<JourneyState> {
  return runJourney(input, { keepEarlyReports: true, leanStart: true, policed: true, storeSteps: localConsentSteps, oneStepConfirm: true, sendsInTask: true, carriesOptOuts: false });
}

export async function journeyWorkflowV3(input: JourneyInput): Promise<JourneyState> {
  return runJourney(input, { keepEarlyReports: true, leanStart: true, policed: true, storeSteps: localConsentSteps, oneStepConfirm: true, sendsInTask: false, carriesOptOuts: false });
}

export async function journeyWorkflowV2(input: JourneyInput): Promise<JourneyState> {
  return runJourney(input, { keepEarlyReports: true, leanStart: true, policed: true, storeSteps: localConsentSteps, oneStepConfirm: false, sendsInTask: false, carriesOptOuts: false });
}

export async function journeyWorkflow(input: JourneyInput): Promise<JourneyState> {
  // Asked in the order the code before journeyWorkflowV2 asked, all before the run's first command, so recorded histories replay.
  const keepEarlyReports = patched(EARLY_PROVIDER_REPORTS_PATCH);
  const leanStart = patched(LEAN_JOURNEY_START_PATCH);
  const policed = patched(JOURNEY_QUIET_HOURS_PATCH);
  return runJourney(input, { keepEarlyReports, leanStart, policed, storeSteps: consentSteps, oneStepConfirm: false, sendsInTask: false, carriesOptOuts: false });
}
