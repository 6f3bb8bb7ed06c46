/** What a recording scenario is, and the pieces every scenario uses: acme's numbers and starting a journey. */
import { parseJourneyId } from '../../workflows/journey/contract';
import type { TestStack } from '../harness/stack';

export const ACME = { sms: '+15005550006', whatsapp: '+15005550007' };

export type Recorder = (stack: TestStack) => Promise<string>;

/** One history to write: test/histories/<file>.json. */
export interface Recording {
  file: string;
  workflowId: string;
  runId?: string;
  /** closed: recorded once the run has ended; open: a long-lived run, recorded once its history stops growing. */
  until: 'closed' | 'open';
}

export interface Scenario {
  /**
   * The businesses the stack loads; config/businesses.demo.json unless the scenario needs other limits.
   * A function writes a file for this run (quiet hours relative to now).
   */
  businessesFile?: string | (() => string);
  record(stack: TestStack): Promise<Recording[]>;
}

export async function start(stack: TestStack, body: Record<string, unknown>): Promise<string> {
  const r = await stack.request('POST', '/v1/journeys', { businessId: 'acme', ...body });
  if (r.status !== 202) throw new Error(`journey did not start: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.journeyId;
}

export function journeyScenario(recorder: Recorder, businessesFile?: Scenario['businessesFile']): Scenario {
  return {
    businessesFile,
    async record(stack) {
      const journeyId = await recorder(stack);
      const ids = parseJourneyId(journeyId);
      if (!ids) throw new Error(`not a journey id: ${journeyId}`);
      return [{ file: '', ...ids, until: 'closed' }];
    },
  };
}
