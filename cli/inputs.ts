import { readFileSync } from 'node:fs';
import { CliError, EXIT } from './client';

function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(EXIT.usage, `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(EXIT.usage, `${what} ${file} is not JSON: ${(err as Error).message}`);
  }
}

/** A plan file holds the steps, either as an array or as { "plan": [...] }. */
export function readPlan(file: string | undefined): unknown[] | undefined {
  if (!file) return undefined;
  const raw = readJsonFile(file, 'plan file') as { plan?: unknown } | unknown[];
  const plan = Array.isArray(raw) ? raw : raw?.plan;
  if (!Array.isArray(plan)) throw new CliError(EXIT.usage, `plan file ${file} must hold an array of steps, e.g. [{ "channel": "sms", "waitFor": "48h" }]`);
  return plan;
}

export const splitList = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
