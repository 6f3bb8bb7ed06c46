import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { callApi, CliError, EXIT, type ApiTarget } from './client';
import { campaignSummary, table, uploadSummary } from './format';
import { readPlan, splitList } from './inputs';
import type { CliIo } from './main';

type Ctx = (cmd: Command) => { target: ApiTarget; json: boolean };
type Print = (json: boolean, value: unknown, human: () => string) => void;

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

type WaitMode = 'ended' | 'started' | 'none';

function waitDone(c: any, mode: WaitMode): boolean {
  if (mode === 'none') return true;
  if (mode === 'started') return c.status === 'completed' || c.status === 'cancelled';
  return !!c.finished;
}

/** Polls the campaign until `mode` is reached, drawing a progress bar when a person is watching. */
async function followCampaign(io: CliIo, target: ApiTarget, campaignId: string, mode: WaitMode, pollMs: number, quiet: boolean): Promise<{ campaign: any; detached: boolean }> {
  let detached = false;
  const onInterrupt = () => {
    detached = true;
  };
  process.once('SIGINT', onInterrupt);
  const bar = !quiet && io.interactive
    ? new SingleBar({
        format: '{bar} {percentage}% | accepted {accepted} skipped {skipped} | sent {sent} | confirmed {confirmed} declined {declined} expired {expired}',
        hideCursor: true,
        clearOnComplete: false,
      })
    : undefined;
  let lastLine = 0;
  let c: any;
  try {
    for (;;) {
      c = await callApi(target, 'GET', `/v1/campaigns/${campaignId}`);
      const skipped = Object.values(c.counts.skipped ?? {}).reduce((a: number, b) => a + (b as number), 0);
      const accepted = c.rows.accepted;
      const handled = mode === 'ended' ? c.started - c.counts.active : c.started;
      const total = mode === 'ended' ? Math.max(1, c.started + c.counts.pending) : Math.max(1, accepted);
      const payload = { accepted, skipped, sent: c.started, confirmed: c.counts.confirmed, declined: c.counts.declined, expired: c.counts.expired };
      if (bar) {
        if (!bar.isActive) bar.start(total, Math.max(0, handled), payload);
        bar.setTotal(total);
        bar.update(Math.max(0, handled), payload);
      } else if (!quiet && Date.now() - lastLine >= 5000) {
        lastLine = Date.now();
        io.err(`${c.status}: accepted ${accepted}, skipped ${skipped}, sent ${c.started}, confirmed ${c.counts.confirmed}, declined ${c.counts.declined}, expired ${c.counts.expired}, active ${c.counts.active}`);
      }
      if (waitDone(c, mode) || detached) break;
      await sleep(pollMs);
    }
  } finally {
    bar?.stop();
    process.removeListener('SIGINT', onInterrupt);
  }
  return { campaign: c, detached };
}

/** `optinflow campaign ...`: start a campaign from a CSV and follow it, read its rows, pause, resume or cancel it. */
export function addCampaignCommands(program: Command, io: CliIo, ctx: Ctx, print: Print): void {
  const campaign = program.command('campaign').description('campaigns: a list of contacts asked to opt in, at a controlled pace');

  campaign
    .command('start')
    .description('upload a CSV (phone, email?, locale?, timezone?, name?) and start the campaign')
    .requiredOption('--business <id>', 'business id')
    .requiredOption('--file <csv>', 'CSV file with a header line; up to 100,000 rows')
    .requiredOption('--categories <list>', 'comma-separated message categories, e.g. order_updates,offers')
    .option('--plan <file>', 'JSON plan: [{ "channel": "sms", "waitFor": "48h", "remindAfter": ["24h"] }, ...]')
    .option('--name <name>', 'campaign name (default: the file name)')
    .addOption(new Option('--wait <until>', 'follow until every journey ended, until every row started, or not at all').choices(['ended', 'started', 'none']).default('ended'))
    .option('--poll <ms>', 'how often to ask for progress', (v) => Number(v), 1000)
    .action(async (opts: { business: string; file: string; categories: string; plan?: string; name?: string; wait: WaitMode; poll: number }, cmd: Command) => {
      const { target, json } = ctx(cmd);
      let csv: Buffer;
      try {
        csv = readFileSync(opts.file);
      } catch (err) {
        throw new CliError(EXIT.usage, `cannot read --file ${opts.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const plan = readPlan(opts.plan);
      const start = await callApi(target, 'POST', '/v1/campaigns', {
        csv,
        query: {
          businessId: opts.business,
          name: opts.name ?? path.basename(opts.file),
          categories: splitList(opts.categories).join(','),
          plan: plan ? JSON.stringify(plan) : undefined,
        },
      });
      if (!json) io.out(uploadSummary(start));
      if (opts.wait === 'none') {
        if (json) io.out(JSON.stringify({ start }, null, 2));
        return;
      }
      const { campaign: final, detached } = await followCampaign(io, target, start.campaignId, opts.wait, opts.poll, json);
      if (json) {
        io.out(JSON.stringify({ start, campaign: final, detached }, null, 2));
        return;
      }
      io.out(campaignSummary(final));
      if (detached) io.err(`Stopped following; the campaign goes on. Check it with: optinflow campaign status ${start.campaignId}`);
    });

  campaign
    .command('status <campaignId>')
    .description('counts per outcome, opt-in rate and pace')
    .action(async (campaignId: string, _opts: unknown, cmd: Command) => {
      const { target, json } = ctx(cmd);
      const c = await callApi(target, 'GET', `/v1/campaigns/${encodeURIComponent(campaignId)}`);
      print(json, c, () => campaignSummary(c));
    });

  campaign
    .command('rows <campaignId>')
    .description('per-row outcomes (skipped rows with their reason)')
    .addOption(new Option('--outcome <outcome>').choices(['accepted', 'skipped']))
    .option('--reason <reason>', 'only rows skipped for this reason, e.g. invalid_phone')
    .option('--after <row>', 'rows after this row number', '0')
    .option('--limit <n>', 'at most this many rows (max 1000)', '100')
    .action(async (campaignId: string, opts: { outcome?: string; reason?: string; after: string; limit: string }, cmd: Command) => {
      const { target, json } = ctx(cmd);
      const r = await callApi(target, 'GET', `/v1/campaigns/${encodeURIComponent(campaignId)}/rows`, { query: { outcome: opts.outcome, reason: opts.reason, after: opts.after, limit: opts.limit } });
      print(json, r, () =>
        table(r.rows.map((x: any) => [x.row, x.phone, x.outcome, x.reason ?? x.state, x.detail ?? x.journeyId ?? '']), ['row', 'phone', 'outcome', 'reason/state', 'detail']) +
          (r.nextAfter ? `\nmore: --after ${r.nextAfter}` : ''),
      );
    });

  for (const action of ['pause', 'resume'] as const) {
    campaign
      .command(`${action} <campaignId>`)
      .description(action === 'pause' ? 'stop starting new journeys until resumed' : 'start journeys again after a pause')
      .action(async (campaignId: string, _opts: unknown, cmd: Command) => {
        const { target, json } = ctx(cmd);
        const c = await callApi(target, 'POST', `/v1/campaigns/${encodeURIComponent(campaignId)}/${action}`);
        print(json, c, () => `Campaign ${c.campaignId}: ${c.status} (${c.started} journeys started, ${c.counts.pending} pending)`);
      });
  }

  campaign
    .command('cancel <campaignId>')
    .description('stop starting new journeys; running journeys finish, or are cancelled with --journeys cancel')
    .addOption(new Option('--journeys <what>', 'what happens to running journeys').choices(['finish', 'cancel']).default('finish'))
    .option('--reason <text>', 'why (kept with each cancelled journey)')
    .action(async (campaignId: string, opts: { journeys: 'finish' | 'cancel'; reason?: string }, cmd: Command) => {
      const { target, json } = ctx(cmd);
      const c = await callApi(target, 'POST', `/v1/campaigns/${encodeURIComponent(campaignId)}/cancel`, { body: { journeys: opts.journeys, reason: opts.reason } });
      print(json, c, () => `Campaign ${c.campaignId}: ${c.status}; running journeys will ${opts.journeys === 'cancel' ? 'be cancelled' : 'finish'}`);
    });
}
