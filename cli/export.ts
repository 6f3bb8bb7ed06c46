import { Command, Option } from 'commander';
import { CliError, EXIT, openApiStream, type ApiTarget } from './client';
import { sinceToFrom } from './report';

/** Whether an export's last line is the trailer of a complete export (docs/compliance.md). */
export function exportComplete(lastLine: string): boolean {
  return /^#end,\d+$/.test(lastLine) || /^\{"kind":"end","complete":true,/.test(lastLine);
}

/**
 * `optinflow consents export`: streams GET /v1/consents/export to stdout as it arrives, whole lines at
 * a time, and fails (exit 6) when the export did not end with its "complete" trailer, so a script
 * never takes a cut-off list for the whole one.
 */
export function addConsentsCommand(consents: Command, ctx: (cmd: Command) => { target: ApiTarget }, out: (text: string) => void): void {
  consents
    .command('export')
    .description('the opted-in segment of a category, or the opt-out list with when and how, as CSV or NDJSON on stdout')
    .requiredOption('--business <id>', 'business id')
    .addOption(new Option('--status <status>', 'which list').choices(['opted_in', 'opted_out']).makeOptionMandatory())
    .option('--category <id>', 'message category (required for opted_in; all categories for opted_out when left out)')
    .option('--since <when>', 'only consents whose status took effect from then: a duration before now (30d) or a date (2025-06-01)')
    .option('--until <when>', 'and before this date or date-time')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'ndjson']).default('csv'))
    .action(async (opts: { business: string; status: string; category?: string; since?: string; until?: string; format: string }, cmd: Command) => {
      const { target } = ctx(cmd);
      const query = { businessId: opts.business, status: opts.status, category: opts.category, since: opts.since ? sinceToFrom(opts.since) : undefined, until: opts.until, format: opts.format };
      const res = await openApiStream(target, '/v1/consents/export', query);
      const decoder = new TextDecoder();
      let pending = '';
      let lastLine = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        pending += decoder.decode(chunk, { stream: true });
        const cut = pending.lastIndexOf('\n');
        if (cut < 0) continue;
        const whole = pending.slice(0, cut + 1);
        pending = pending.slice(cut + 1);
        out(whole);
        lastLine = whole.trimEnd().split('\n').pop() ?? lastLine;
      }
      pending += decoder.decode();
      if (pending) {
        out(`${pending}\n`);
        lastLine = pending.trimEnd();
      }
      if (!exportComplete(lastLine.trimEnd())) throw new CliError(EXIT.server, 'the export is incomplete: it did not end with its "end" trailer (the API or its store failed midway); ask again');
    });
}
