import { runCli, type CliIo } from '../../cli/main';
import type { TestStack } from './stack';

/** Runs `optinflow <args>` against the stack's API, capturing what it prints. */
export async function cliAgainst(stack: TestStack, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, interactive: false };
  const code = await runCli([...args, '--api-url', stack.apiUrl, '--api-key', stack.apiKey], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}
