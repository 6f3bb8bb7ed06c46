import path from 'node:path';
import { loadConfig } from '../../config/config';
import { buildKeyRing, hashedKey, sha256Hex } from '../../lib/api-keys';
import { loadBusinesses } from '../../lib/businesses';
import { contactActor, mayActFor } from '../../domain/access';

const businesses = loadBusinesses(path.join(__dirname, '..', 'fixtures', 'businesses.fast.json'));
const PLAIN = 'a-plain-admin-key-0123456789';
const SCOPED = 'a-scoped-campaigns-key-0123456789';

describe('the key ring', () => {
  it('takes API_KEYS in plain text or as sha256: as admin keys for every business, with the caller id they always had', () => {
    const ring = buildKeyRing({ apiKeys: [PLAIN, hashedKey('another-admin-key-0123456789')] });
    expect(ring.find(PLAIN)).toEqual({ keyId: `api-keys.${sha256Hex(PLAIN).slice(0, 12)}`, role: 'admin', businesses: '*', callerId: sha256Hex(PLAIN).slice(0, 16) });
    expect(ring.find('another-admin-key-0123456789')?.role).toBe('admin');
    expect(ring.find(hashedKey(PLAIN))).toBeUndefined();
    expect(ring.find('a-key-nobody-configured-000000')).toBeUndefined();
  });

  it('finds a scoped key by its hash only, with its role and businesses', () => {
    const ring = buildKeyRing({ keysFile: { keys: [{ id: 'crm-acme', hash: hashedKey(SCOPED), role: 'campaigns', businesses: ['acme'] }] }, businesses });
    const key = ring.find(SCOPED)!;
    expect(key).toMatchObject({ keyId: 'crm-acme', role: 'campaigns', businesses: ['acme'], callerId: 'key.crm-acme' });
    expect(mayActFor(key, 'acme')).toBe(true);
    expect(mayActFor(key, 'paced')).toBe(false);
  });

  it('refuses a key file naming an unknown business, a repeated id or the same key twice', () => {
    const entry = { id: 'crm', hash: hashedKey(SCOPED), role: 'read' as const, businesses: ['acme'] };
    expect(() => buildKeyRing({ keysFile: { keys: [{ ...entry, businesses: ['nobody'] }] }, businesses })).toThrow(/"nobody" not in BUSINESSES_FILE/);
    expect(() => buildKeyRing({ keysFile: { keys: [entry, { ...entry, hash: hashedKey('other-key-0123456789abc') }] }, businesses })).toThrow(/id is used by another key/);
    expect(() => buildKeyRing({ apiKeys: [SCOPED], keysFile: { keys: [entry] }, businesses })).toThrow(/configured twice/);
  });
});

describe('configuration', () => {
  const base = { TWILIO_ACCOUNT_SID: 'AC' + 'ab'.repeat(16), TWILIO_AUTH_TOKEN: 'twilio-auth-token-0123456789', PAGE_TOKEN_SECRET: 'x'.repeat(32) };
  it('needs API_KEYS or OPTINFLOW_KEYS_FILE, naming them', () => {
    expect(() => loadConfig(base)).toThrow(/API_KEYS \(not set\): set API_KEYS or OPTINFLOW_KEYS_FILE/);
    expect(loadConfig({ ...base, OPTINFLOW_KEYS_FILE: 'keys.json' }).OPTINFLOW_KEYS_FILE).toBe('keys.json');
  });
  it('takes a hashed API_KEYS entry and refuses a short or malformed one', () => {
    expect(loadConfig({ ...base, API_KEYS: hashedKey(PLAIN) }).API_KEYS).toEqual([hashedKey(PLAIN)]);
    expect(() => loadConfig({ ...base, API_KEYS: 'short' })).toThrow(/API_KEYS \(invalid\): each key must be at least 16 characters/);
    expect(() => loadConfig({ ...base, API_KEYS: 'sha256:abc' })).toThrow(/API_KEYS \(invalid\)/);
  });
});

describe('the actor of a contact\'s answer', () => {
  it('names the key that asked, without the key\'s own kind', () => {
    expect(contactActor('sms', { kind: 'api_key', keyId: 'crm', agentId: 'a1' })).toEqual({ kind: 'contact', channel: 'sms', requestedBy: { keyId: 'crm', agentId: 'a1' } });
    expect(Object.keys(contactActor('sms', { kind: 'api_key', keyId: 'crm' }).requestedBy!)).toEqual(['keyId']);
    expect(contactActor('whatsapp')).toEqual({ kind: 'contact', channel: 'whatsapp' });
  });
});

describe('optinflow keys new', () => {
  it('prints a key once and an entry holding only its hash, which the key ring accepts', async () => {
    const { runCli } = await import('../../cli/main');
    const out: string[] = [];
    const code = await runCli(['--json', 'keys', 'new', '--id', 'crm-acme', '--role', 'campaigns', '--business', 'acme,paced'], { out: (t) => out.push(t), err: (t) => out.push(t), env: {}, interactive: false });
    expect(code).toBe(0);
    const { key, entry } = JSON.parse(out.join(''));
    expect(entry).toEqual({ id: 'crm-acme', hash: hashedKey(key), role: 'campaigns', businesses: ['acme', 'paced'] });
    expect(JSON.stringify(entry)).not.toContain(key);
    expect(buildKeyRing({ keysFile: { keys: [entry] }, businesses }).find(key)).toMatchObject({ keyId: 'crm-acme', role: 'campaigns' });
    expect(await runCli(['keys', 'new', '--id', 'x', '--role', 'owner', '--business', 'acme'], { out: () => undefined, err: () => undefined, env: {}, interactive: false })).toBe(1);
  });
});
