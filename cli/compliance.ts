import type { Command } from 'commander';
import { callApi, CliError, EXIT, type ApiTarget } from './client';
import { table } from './format';

type Ctx = (cmd: Command) => { target: ApiTarget; json: boolean };
type Print = (json: boolean, value: unknown, human: () => string) => void;

/** What `ledger verify` prints for a person: counts first, then each broken chain's first bad link. */
export function verificationSummary(v: any): string {
  const lines = [`Ledger of ${v.businessId}: ${v.chains} chains and ${v.events} events checked; ${v.ok ? 'all links verify' : `${v.brokenChains} broken`}.`];
  if (v.erasedEvents > 0) lines.push(`${v.erasedEvents} events were erased on request: their chain links verify, their removed personal data cannot be re-checked.`);
  if (v.legacy.events > 0) lines.push(`${v.legacy.events} events in ${v.legacy.chains} chains were written before the ledger was chained: legacy, not verified. Link them with: optinflow ledger seal --business ${v.businessId}`);
  if (v.broken.length > 0) lines.push('', table(v.broken.map((b: any) => [b.contactId, b.seq, b.eventId ?? '', b.problem, b.detail]), ['contact', 'seq', 'event', 'problem', 'detail']));
  if (v.brokenChains > v.broken.length) lines.push(`(${v.brokenChains - v.broken.length} more broken chains not listed)`);
  return lines.join('\n');
}

/** `optinflow ledger ...` and `optinflow contact ...`: what a compliance officer runs (docs/compliance.md). */
export function addComplianceCommands(program: Command, ctx: Ctx, print: Print): void {
  const ledger = program.command('ledger').description('the consent ledger: prove it was not changed');
  ledger
    .command('verify')
    .description('walk every contact\'s hash chain; print chains and events checked and the first broken link of each broken chain (exit 7 when one is broken)')
    .requiredOption('--business <id>', 'business id')
    .action(async (opts: { business: string }, cmd: Command) => {
      const { target, json } = ctx(cmd);
      const v = await callApi(target, 'GET', '/v1/ledger/verify', { query: { businessId: opts.business } });
      // A broken ledger is an error for scripts: --json prints the answer once, inside the error object.
      if (!v.ok && json) throw new CliError(EXIT.ledgerBroken, `${v.brokenChains} chains of ${v.businessId} do not verify`, v);
      print(json, v, () => verificationSummary(v));
      if (!v.ok) throw new CliError(EXIT.ledgerBroken, `${v.brokenChains} chains of ${v.businessId} do not verify`);
    });
  ledger
    .command('seal')
    .description('link the events written before the ledger was chained (once, after upgrading)')
    .requiredOption('--business <id>', 'business id')
    .action(async (opts: { business: string }, cmd: Command) => {
      const { target, json } = ctx(cmd);
      const r = await callApi(target, 'POST', '/v1/ledger/seal', { body: { businessId: opts.business } });
      print(json, r, () => `Linked ${r.sealed} legacy events of ${r.businessId}.`);
    });

  const contact = program.command('contact').description('one person: what we hold, and erasing it');
  contact
    .command('export')
    .description('everything held about one person (subject-access request), as JSON')
    .requiredOption('--business <id>', 'business id')
    .requiredOption('--phone <e164>', 'the person\'s phone, e.g. +14155550100')
    .action(async (opts: { business: string; phone: string }, cmd: Command) => {
      const { target } = ctx(cmd);
      const r = await callApi(target, 'GET', '/v1/contacts/export', { query: { businessId: opts.business, phone: opts.phone } });
      print(true, r, () => '');
    });
  contact
    .command('erase')
    .description('remove the person\'s phone, e-mail, names and messages everywhere, keeping the suppression and the ledger\'s chain')
    .requiredOption('--business <id>', 'business id')
    .requiredOption('--phone <e164>', 'the person\'s phone, e.g. +14155550100')
    .requiredOption('--request-id <id>', 'your reference for the request (repeating it repeats nothing)')
    .action(async (opts: { business: string; phone: string; requestId: string }, cmd: Command) => {
      const { target, json } = ctx(cmd);
      const r = await callApi(target, 'POST', '/v1/contacts/erase', { body: { businessId: opts.business, phone: opts.phone, requestId: opts.requestId } });
      print(json, r, () =>
        [
          `Erased contact ${r.contactId} of ${r.businessId} (request ${r.requestId}${r.existing ? ', done before' : ''}).`,
          `Workflows deleted: ${r.workflows.deleted} (${r.workflows.terminated} were running and were ended first).`,
          `Store: ${Object.entries(r.store).map(([k, n]) => `${k} ${n}`).join(', ')}.`,
          `The number stays suppressed; the ledger keeps ${r.ledgerEvents} events without personal data (event ${r.eventId}).`,
        ].join('\n'),
      );
    });
}
