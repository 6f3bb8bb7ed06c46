import type { WorkflowExecutionInfo } from '@temporalio/client';
import { isClosedWorkflow } from '../../services/temporal';
import type { TestStack } from './stack';

/* Looking for a person's identifiers in the test database and in Temporal (the erasure test). */

export interface PersonIdentifiers {
  phone: string;
  email: string;
  name: string;
}

/** Every way the person's identifiers could be written down: the phone as E.164, whatsapp:-prefixed and digits only. */
export function tracesOf(p: PersonIdentifiers): string[] {
  return [p.phone, `whatsapp:${p.phone}`, p.phone.replace(/\D/g, ''), p.email, p.name];
}

/** Which of the person's traces the text holds (case-insensitive). */
export function tracesIn(text: string, p: PersonIdentifiers): string[] {
  const lower = text.toLowerCase();
  return tracesOf(p).filter((t) => lower.includes(t.toLowerCase()));
}

/** Every document of every collection of the stack's database that mentions the person, as `collection/_id: trace`. */
export async function storeMentions(stack: TestStack, p: PersonIdentifiers): Promise<string[]> {
  const db = stack.store.connection.db!;
  const hits: string[] = [];
  for (const c of await db.listCollections().toArray()) {
    for (const doc of await db.collection(c.name).find({}).toArray()) {
      const hit = tracesIn(JSON.stringify(doc), p);
      if (hit.length) hits.push(`${c.name}/${String(doc._id)}: ${hit.join(', ')}`);
    }
  }
  return hits;
}

export async function listRuns(stack: TestStack, query: string): Promise<WorkflowExecutionInfo[]> {
  const runs: WorkflowExecutionInfo[] = [];
  for await (const run of stack.client.workflow.list({ query })) runs.push(run);
  return runs;
}

/** JSON with payload bytes as the text they hold: histories carry JSON payloads base64-encoded, visibility as bytes. */
export const asText = (value: unknown) =>
  JSON.stringify(value, (k, v) => {
    if (k === 'data' && typeof v === 'string') return Buffer.from(v, 'base64').toString('utf8');
    if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
    // A Buffer has turned itself into { type: 'Buffer', data: [...] } before the replacer sees it.
    if (v && typeof v === 'object' && v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data).toString('utf8');
    return typeof v === 'bigint' ? String(v) : v;
  });

/** The run's history as text, or undefined when Temporal has no such run (any other failure throws). */
export async function historyText(stack: TestStack, run: { workflowId: string; runId?: string }): Promise<string | undefined> {
  try {
    return asText(await stack.client.workflow.getHandle(run.workflowId, run.runId || undefined).fetchHistory());
  } catch (err) {
    if (isClosedWorkflow(err)) return undefined;
    throw err;
  }
}
