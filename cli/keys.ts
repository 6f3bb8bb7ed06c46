import { Command, Option } from 'commander';
import { randomBytes } from 'node:crypto';
import { keyIdPattern, ROLES } from '../domain/access';
import { hashedKey } from '../lib/api-keys';
import { callApi, CliError, EXIT, type ApiTarget } from './client';

type Ctx = (cmd: Command) => { target: ApiTarget; json: boolean };
type Print = (json: boolean, value: unknown, human: () => string) => void;

/** `optinflow keys`: make a scoped key for OPTINFLOW_KEYS_FILE, and ask the API what a key may do. */
export function addKeysCommands(program: Command, ctx: Ctx, print: Print): void {
  const keys = program.command('keys').description('API keys scoped to businesses and a role (docs/keys.md)');

  keys
    .command('new')
    .description('make a new random key: prints the key once, and the entry (with only its hash) for OPTINFLOW_KEYS_FILE')
    .requiredOption('--id <id>', 'the key\'s id, recorded in the ledger as the actor (e.g. crm-acme)')
    .addOption(new Option('--role <role>', 'what it may do').choices([...ROLES]).makeOptionMandatory())
    .requiredOption('--business <ids>', 'comma-separated business ids, or * for every business')
    .action((opts: { id: string; role: string; business: string }, cmd: Command) => {
      if (!keyIdPattern.test(opts.id)) throw new CliError(EXIT.usage, `--id "${opts.id}" must be 1-63 letters, digits, _ . or -, starting with a letter or digit`);
      const businesses = opts.business.trim() === '*' ? '*' : opts.business.split(',').map((b) => b.trim()).filter(Boolean);
      if (businesses !== '*' && businesses.length === 0) throw new CliError(EXIT.usage, '--business must name at least one business, or be *');
      const key = `ofk_${randomBytes(24).toString('base64url')}`;
      const entry = { id: opts.id, hash: hashedKey(key), role: opts.role, businesses };
      print(cmd.optsWithGlobals<{ json?: boolean }>().json ?? false, { key, entry }, () =>
        [`API key (shown once; give it to the caller, keep only the hash): ${key}`, 'Add this entry to the "keys" list of OPTINFLOW_KEYS_FILE:', JSON.stringify(entry, null, 2)].join('\n'),
      );
    });

  keys
    .command('whoami')
    .description('what the key in use may do: its id, role and businesses')
    .action(async (_opts: unknown, cmd: Command) => {
      const { target, json } = ctx(cmd);
      const me = await callApi(target, 'GET', '/v1/keys/me');
      print(json, me, () => `key ${me.keyId}: role ${me.role}, businesses ${me.businesses === '*' ? 'all' : me.businesses.join(', ')}`);
    });
}
