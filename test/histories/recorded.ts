import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The histories record.ts wrote, each with its file name (as workflowId) and its workflow type. */
export interface RecordedHistory {
  workflowId: string;
  workflowType: string;
  json: { events: any[] };
}

export const recorded: RecordedHistory[] = readdirSync(__dirname)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => {
    const json = JSON.parse(readFileSync(path.join(__dirname, file), 'utf8')) as { events: any[] };
    const workflowType: string = json.events[0].workflowExecutionStartedEventAttributes.workflowType.name;
    return { workflowId: path.basename(file, '.json'), workflowType, json };
  });

/** The patch ids whose marker the history carries: the new branch of each was taken. */
export function patchesIn(h: { json: { events: any[] } }): string[] {
  return h.json.events
    .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
    .map((e) => {
      const details = e.markerRecordedEventAttributes.details;
      return JSON.parse(Buffer.from(details[Object.keys(details)[0]].payloads[0].data, 'base64').toString('utf8')).id as string;
    });
}
