import type { Business } from '../domain/business';
import type { SkipReason } from '../domain/campaign';
import { checkRowFields, type RawRow } from '../domain/campaign-rows';
import { blockedAmong } from '../store/blocks';
import type { CampaignRow } from '../store/campaigns';
import { contactIdOf } from '../store/models';
import type { ServiceDeps } from './deps';

const LOOKUP_BATCH = 5000;

export interface CheckedRows {
  rows: CampaignRow[];
  accepted: number;
  skipped: Partial<Record<SkipReason, number>>;
}

function skip(row: CampaignRow, reason: SkipReason, detail: string): void {
  row.outcome = 'skipped';
  row.state = 'skipped';
  row.reason = reason;
  row.detail = detail;
}

/** Batches of an array, so lookups of a 100,000-row file go to the store a few thousand ids at a time. */
function* batches<T>(items: T[], size: number): Generator<T[]> {
  for (let k = 0; k < items.length; k += size) yield items.slice(k, k + size);
}

/**
 * Checks every row before anything starts: its fields, duplicates in the file, and what the store
 * knows of the contact (opted out, already opted in to every category, asked too recently).
 */
export async function checkCampaignRows(deps: ServiceDeps, business: Business, categories: string[], planUsesEmail: boolean, raw: RawRow[], now = Date.now()): Promise<CheckedRows> {
  const rows: CampaignRow[] = [];
  const firstRowOf = new Map<string, number>();
  raw.forEach((r, i) => {
    const row: CampaignRow = { i, input: r.phone ?? '', outcome: 'accepted', state: 'pending' };
    rows.push(row);
    const checked = checkRowFields(r, business, planUsesEmail);
    if (!checked.ok) return skip(row, checked.reason, checked.detail);
    Object.assign(row, checked.fields, { contactId: contactIdOf(business.id, checked.fields.phone) });
    const first = firstRowOf.get(row.contactId!);
    if (first !== undefined) return skip(row, 'duplicate_in_file', `same phone as row ${first + 1}`);
    firstRowOf.set(row.contactId!, i);
  });

  const candidates = rows.filter((r) => r.outcome === 'accepted');
  const capMs = business.frequencyCapDays * 86_400_000;
  const known = new Set<string>();
  for (const batch of batches(candidates, LOOKUP_BATCH)) {
    const ids = batch.map((r) => r.contactId!);
    const contacts = await deps.store.contacts.find({ _id: { $in: ids } }).lean();
    const byId = new Map(contacts.map((c) => [c._id as unknown as string, c]));
    const blocked = await blockedAmong(deps.store, contacts as { _id: string; messaging?: string | null }[], ids);
    for (const row of batch) {
      const c = byId.get(row.contactId!);
      if (c) known.add(row.contactId!);
      if (blocked.has(row.contactId!)) skip(row, 'opted_out', 'the contact opted out; only their own act can opt them back in');
      else if (c && capMs > 0 && c.lastRequestAt && now - new Date(c.lastRequestAt).getTime() < capMs) {
        skip(row, 'frequency_cap', `last asked ${new Date(c.lastRequestAt).toISOString()}; at most one request per ${business.frequencyCapDays} days`);
      }
    }
  }

  // Consents exist only for known contacts: a file of new contacts costs no consent lookups.
  const stillAccepted = candidates.filter((r) => r.outcome === 'accepted' && known.has(r.contactId!));
  for (const batch of batches(stillAccepted, LOOKUP_BATCH)) {
    const ids = batch.flatMap((r) => categories.map((c) => `${r.contactId}:${c}`));
    const optedIn = await deps.store.consents.find({ _id: { $in: ids }, status: 'opted_in' }).lean();
    const count = new Map<string, number>();
    for (const c of optedIn) count.set(c.contactId, (count.get(c.contactId) ?? 0) + 1);
    for (const row of batch) {
      if ((count.get(row.contactId!) ?? 0) >= categories.length) skip(row, 'already_opted_in', `already opted in to ${categories.join(', ')}`);
    }
  }

  const skipped: Partial<Record<SkipReason, number>> = {};
  let accepted = 0;
  for (const r of rows) {
    if (r.outcome === 'accepted') accepted++;
    else skipped[r.reason!] = (skipped[r.reason!] ?? 0) + 1;
  }
  return { rows, accepted, skipped };
}
