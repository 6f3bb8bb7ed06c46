import { Command, Option } from 'commander';
import { parseDuration } from '../domain/duration';
import { callApi, CliError, EXIT, type ApiTarget } from './client';
import { consentReportSummary } from './report-format';

/** When a report starts: "30d", "12h" before now, or a date / date-time as the API takes it. */
export function sinceToFrom(since: string, now = Date.now()): string {
  const ms = parseDuration(since);
  if (ms !== undefined) return new Date(now - ms).toISOString();
  if (/^\d{4}-\d{2}-\d{2}/.test(since) && Number.isFinite(Date.parse(since))) return since;
  throw new CliError(EXIT.usage, `--since "${since}" must be a duration such as 30d or 12h, or a date such as 2025-06-01`);
}

/** `optinflow report`: GET /v1/reports/consent as tables, or --json. */
export function addReportCommand(program: Command, ctx: (cmd: Command) => { target: ApiTarget; json: boolean }, print: (json: boolean, value: unknown, human: () => string) => void): void {
  program
    .command('report')
    .description('consent report: journeys and opt-in rate, opt-outs by source and keyword, time to honour an opt-out, time to answer')
    .requiredOption('--business <id>', 'business id')
    .option('--since <when>', 'start: a duration before now (30d, 12h) or a date (2025-06-01)', '30d')
    .option('--until <when>', 'end: a date or date-time (default now)')
    .addOption(new Option('--interval <interval>', 'rows of the series').choices(['day', 'week']).default('day'))
    .addOption(new Option('--group-by <dimension>', 'how the funnel is split').choices(['channel', 'method', 'category', 'campaign']).default('channel'))
    .action(async (opts: { business: string; since: string; until?: string; interval: string; groupBy: string }, cmd: Command) => {
      const { target, json } = ctx(cmd);
      const query = { businessId: opts.business, from: sinceToFrom(opts.since), to: opts.until, interval: opts.interval, groupBy: opts.groupBy };
      const r = await callApi(target, 'GET', '/v1/reports/consent', { query });
      print(json, r, () => consentReportSummary(r));
    });
}
