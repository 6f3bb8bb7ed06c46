import { SingleBar } from 'cli-progress';
import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { callApi, CliError, EXIT, resolveTarget, type ApiTarget } from './client';
import { addConsentsCommand } from './export';
import { campaignSummary, consentSummary, journeySummary, table, uploadSummary } from './format';
import { addConsentImportCommand } from './consent-import';
import { addKeysCommands } from './keys';
import { addComplianceCommands } from './compliance';
import { addReportCommand } from './report';

/**
 * `optinflow`: the campaign owner's command line. Every command is one or a few API calls with the
 * API key; --json prints the API's answer for scripts, and the exit code says what went wrong.
 */

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Whether a person watches stderr (a progress bar) rather than a log file. */
  interactive: boolean;
}

const processIo: CliIo = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
  env: process.env,
  interactive: !!process.stderr.isTTY,
};

interface GlobalOptions {
  apiUrl?: string;
  apiKey?: string;
  json?: boolean;
}

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
function readPlan(file: string | undefined): unknown[] | undefined {
  if (!file) return undefined;
  const raw = readJsonFile(file, 'plan file') as { plan?: unknown } | unknown[];
  const plan = Array.isArray(raw) ? raw : raw?.plan;
  if (!Array.isArray(plan)) throw new CliError(EXIT.usage, `plan file ${file} must hold an array of steps, e.g. [{ "channel": "sms", "waitFor": "48h" }]`);
  return plan;
}

const splitList = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
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

export function buildProgram(io: CliIo): Command {
  const program = new Command('optinflow')
    .description('Start and follow WhatsApp opt-in campaigns and journeys through the Optinflow API')
    .option('--api-url <url>', 'API base URL (env OPTINFLOW_API_URL, default http://127.0.0.1:3000)')
    .option('--api-key <key>', 'API key (env OPTINFLOW_API_KEY; the local stack\'s dev key when the API is on this machine)')
    .option('--json', 'print the API\'s JSON answer (for scripts)')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });

  const ctx = (cmd: Command) => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    return { target: resolveTarget(g, io.env), json: !!g.json };
  };
  const print = (json: boolean, value: unknown, human: () => string) => io.out(json ? JSON.stringify(value, null, 2) : human());

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

  const journey = program.command('journey').description('single opt-in journeys');
  journey
    .command('start')
    .description('ask one contact to opt in')
    .requiredOption('--business <id>', 'business id')
    .requiredOption('--phone <e164>', 'the contact\'s phone, e.g. +14155550100')
    .requiredOption('--categories <list>', 'comma-separated message categories')
    .option('--email <address>', 'the contact\'s e-mail (needed by an email step)')
    .option('--locale <locale>', 'e.g. en or pt-BR')
    .option('--plan <file>', 'JSON plan file')
    .action(async (opts: { business: string; phone: string; categories: string; email?: string; locale?: string; plan?: string }, cmd: Command) => {
      const { target, json } = ctx(cmd);
      const r = await callApi(target, 'POST', '/v1/journeys', {
        body: { businessId: opts.business, contact: { phone: opts.phone, email: opts.email, locale: opts.locale }, categories: splitList(opts.categories), plan: readPlan(opts.plan), source: { kind: 'cli' } },
      });
      print(json, r, () => `Journey ${r.journeyId}: ${r.status}${r.existing ? ' (already running for this contact)' : ''}`);
    });
  journey
    .command('status <journeyId>')
    .description('where a journey stands and its last events')
    .action(async (journeyId: string, _opts: unknown, cmd: Command) => {
      const { target, json } = ctx(cmd);
      const j = await callApi(target, 'GET', `/v1/journeys/${encodeURIComponent(journeyId)}`);
      print(json, j, () => journeySummary(j));
    });
  journey
    .command('cancel <journeyId>')
    .description('end a running journey without asking further')
    .option('--reason <text>', 'why')
    .action(async (journeyId: string, opts: { reason?: string }, cmd: Command) => {
      const { target, json } = ctx(cmd);
      const j = await callApi(target, 'POST', `/v1/journeys/${encodeURIComponent(journeyId)}/cancel`, { body: { reason: opts.reason } });
      print(json, j, () => journeySummary(j));
    });

  program
    .command('consent')
    .description('consent records')
    .command('show <phone>')
    .description('a contact\'s consent per category and its history')
    .requiredOption('--business <id>', 'business id')
    .action(async (phone: string, opts: { business: string }, cmd: Command) => {
      const { target, json } = ctx(cmd);
      const c = await callApi(target, 'GET', '/v1/consents', { query: { businessId: opts.business, phone } });
      print(json, c, () => consentSummary(c));
    });

  program
    .command('optout <phone>')
    .description('opt a contact out (all categories unless --categories), as asked by the contact')
    .requiredOption('--business <id>', 'business id')
    .option('--categories <list>', 'only these categories')
    .option('--reason <text>', 'why, kept as proof', 'requested through the optinflow CLI')
    .option('--agent <id>', 'the agent who asked, recorded in the ledger with the key')
    .option('--ticket <id>', 'the ticket it came from, recorded in the ledger with the key')
    .action(async (phone: string, opts: { business: string; categories?: string; reason: string; agent?: string; ticket?: string }, cmd: Command) => {
      const { target, json } = ctx(cmd);
      const r = await callApi(target, 'POST', '/v1/optouts', {
        body: { businessId: opts.business, phone, categories: opts.categories ? splitList(opts.categories) : undefined, reason: opts.reason, source: { kind: 'api', reference: 'optinflow-cli' }, agentId: opts.agent, ticketId: opts.ticket },
      });
      print(json, r, () => `Opt-out ${r.optOutId}: ${r.existing ? 'already recorded' : 'accepted'} for ${Array.isArray(r.categories) ? r.categories.join(', ') : r.categories}`);
    });

  addReportCommand(program, ctx, print);
  const consents = program.command('consents').description('consents in bulk: import those collected elsewhere, export segments and opt-out lists');
  addConsentImportCommand(consents, ctx, print);
  addKeysCommands(program, ctx, print);
  addComplianceCommands(program, ctx, print);
  addConsentsCommand(consents, ctx, (text) => io.out(text));

  return program;
}

/** Runs one command line; resolves to the exit code instead of exiting, so tests can call it. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof CliError) {
      const json = argv.includes('--json');
      if (json) io.out(JSON.stringify({ error: err.message, exitCode: err.exitCode, ...(err.body && typeof err.body === 'object' ? { api: err.body } : {}) }, null, 2));
      io.err(`optinflow: ${err.message}`);
      const issues = (err.body as { issues?: { field: string; rule: string }[] } | undefined)?.issues;
      if (!json && Array.isArray(issues)) for (const i of issues.slice(0, 20)) io.err(`  ${i.field}: ${i.rule}`);
      return err.exitCode;
    }
    io.err(`optinflow: ${(err as Error).stack ?? String(err)}`);
    return EXIT.server;
  }
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
