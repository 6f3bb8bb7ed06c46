import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { callApi, CliError, EXIT, type ApiTarget } from './client';

type Ctx = (cmd: Command) => { target: ApiTarget; json: boolean };
type Print = (json: boolean, value: unknown, human: () => string) => void;

function summary(r: any): string {
  const c = r.counts;
  const lines = [
    `Import ${r.importId} for ${r.businessId}${r.existing ? ' (already imported: nothing was written again)' : ''}`,
    `  rows ${c.total}: accepted ${c.accepted}, skipped ${c.skipped}, invalid ${c.invalid}; ledger events ${c.events}`,
  ];
  const notAccepted = (r.rows as any[]).filter((o) => o.outcome !== 'accepted');
  for (const o of notAccepted.slice(0, 50)) lines.push(`  row ${o.row}: ${o.outcome} (${o.reason})${o.detail ? `: ${o.detail}` : ''}`);
  if (notAccepted.length > 50) lines.push(`  ... and ${notAccepted.length - 50} more (use --json for every row)`);
  return lines.join('\n');
}

/** `optinflow consents import FILE`: consents collected elsewhere, CSV or JSON, through POST /v1/consents/import. */
export function addConsentImportCommand(consents: Command, ctx: Ctx, print: Print): void {
  consents
    .command('import <file>')
    .description('import consents collected elsewhere: a CSV (phone,categories,method,collected_at,shown,where,reference) or a JSON list of rows; opted-out contacts are skipped')
    .requiredOption('--business <id>', 'business id')
    .option('--import-id <id>', 'makes the import repeatable (default: derived from the file\'s content, so importing the same file again changes nothing)')
    .action(async (file: string, opts: { business: string; importId?: string }, cmd: Command) => {
      const { target, json } = ctx(cmd);
      let content: Buffer;
      try {
        content = readFileSync(file);
      } catch (err) {
        throw new CliError(EXIT.usage, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const importId = opts.importId ?? `file-${createHash('sha256').update(content).digest('hex').slice(0, 24)}`;
      let r: any;
      if (file.toLowerCase().endsWith('.json')) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(content.toString('utf8'));
        } catch (err) {
          throw new CliError(EXIT.usage, `${file} is not JSON: ${(err as Error).message}`);
        }
        const rows = Array.isArray(parsed) ? parsed : (parsed as { rows?: unknown })?.rows;
        if (!Array.isArray(rows)) throw new CliError(EXIT.usage, `${file} must hold a list of rows, or { "rows": [...] }`);
        r = await callApi(target, 'POST', '/v1/consents/import', { body: { businessId: opts.business, importId, rows } });
      } else {
        r = await callApi(target, 'POST', '/v1/consents/import', { csv: content, query: { businessId: opts.business, importId } });
      }
      print(json, r, () => summary(r));
    });
}
