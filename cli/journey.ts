import type { Command } from 'commander';
import { callApi, type ApiTarget } from './client';
import { journeySummary } from './format';
import { readPlan, splitList } from './inputs';

type Ctx = (cmd: Command) => { target: ApiTarget; json: boolean };
type Print = (json: boolean, value: unknown, human: () => string) => void;

/** `optinflow journey ...`: ask one contact to opt in, see where it stands, cancel it. */
export function addJourneyCommands(program: Command, ctx: Ctx, print: Print): void {
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
}
