import { Command, CommanderError } from 'commander';
import { callApi, CliError, EXIT, resolveTarget } from './client';
import { addCampaignCommands } from './campaign';
import { addConsentsCommand } from './export';
import { consentSummary } from './format';
import { addConsentImportCommand } from './consent-import';
import { splitList } from './inputs';
import { addJourneyCommands } from './journey';
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

  addCampaignCommands(program, io, ctx, print);
  addJourneyCommands(program, ctx, print);

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
