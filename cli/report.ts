import { Command, Option } from 'commander';
import { parseDuration } from '../domain/duration';
import { callApi, CliError, EXIT, type ApiTarget } from './client';
import { consentReportSummary } from './report-format';

const DAY_MS = 86_400_000;

/**
 * When a report starts: "12h" before now, "30d" from midnight UTC 30 days ago (whole days, as the API's
 * default window and the report page, so all three show the same figures), or a date / date-time.
 */
export function sinceToFrom(since: string, now = Date.now()): string {
  const ms = parseDuration(since);
  if (ms !== undefined && ms % DAY_MS === 0) return new Date(Math.floor((now - ms) / DAY_MS) * DAY_MS).toISOString();
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
    .option('--link', 'print a signed link (valid 60 minutes) to the report page of the same window instead of the tables')
    .action(async (opts: { business: string; since: string; until?: string; interval: string; groupBy: string; link?: boolean }, cmd: Command) => {
      const { target, json } = ctx(cmd);
      if (opts.link) {
        const link = await callApi(target, 'GET', '/v1/reports/link', { query: { businessId: opts.business } });
        const url = new URL(link.url);
        url.searchParams.set('from', sinceToFrom(opts.since));
        if (opts.until) url.searchParams.set('to', opts.until);
        print(json, { url: url.toString(), expiresAt: link.expiresAt }, () => `${url.toString()}\n(valid until ${link.expiresAt})`);
        return;
      }
      const query = { businessId: opts.business, from: sinceToFrom(opts.since), to: opts.until, interval: opts.interval, groupBy: opts.groupBy };
      const r = await callApi(target, 'GET', '/v1/reports/consent', { query });
      print(json, r, () => consentReportSummary(r));
    });
}
