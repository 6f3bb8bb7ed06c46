/** Plain-text tables and summaries for people; --json output bypasses all of this. */

export function table(rows: (string | number)[][], header?: string[]): string {
  const all = header ? [header, ...rows] : rows;
  const widths = all[0].map((_, c) => Math.max(...all.map((r) => String(r[c] ?? '').length)));
  const line = (r: (string | number)[]) =>
    r.map((cell, c) => (typeof cell === 'number' ? String(cell).padStart(widths[c]) : String(cell).padEnd(widths[c]))).join('  ').trimEnd();
  const out = all.map(line);
  if (header) out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return out.join('\n');
}

const n = (v: number | undefined) => (v ?? 0).toLocaleString('en-US');

/** The campaign as GET /v1/campaigns/:id answers it, as a table a campaign owner reads at a glance. */
export function campaignSummary(c: any): string {
  const counts = c.counts ?? {};
  const skipped = Object.entries(counts.skipped ?? {}) as [string, number][];
  const skippedTotal = skipped.reduce((a, [, v]) => a + v, 0);
  const rows: (string | number)[][] = [
    ['rows', n(c.rows?.total)],
    ['accepted', n(c.rows?.accepted)],
    ['skipped', n(skippedTotal)],
    ...skipped.sort((a, b) => b[1] - a[1]).map(([reason, v]) => [`  ${reason.replace(/_/g, ' ')}`, n(v)]),
    ['sent (journeys started)', n(c.started)],
    ['pending', n(counts.pending)],
    ['active', n(counts.active)],
    ['confirmed', n(counts.confirmed)],
    ['declined', n(counts.declined)],
    ['expired', n(counts.expired)],
    ['opted out', n(counts.opted_out)],
    ['cancelled', n(counts.cancelled)],
    ['opt-in rate', `${((c.optInRate ?? 0) * 100).toFixed(1)}%`],
    ['started/s', String(c.startedPerSecond ?? 0)],
  ];
  const head = `Campaign ${c.campaignId} "${c.name}" (${c.businessId}): ${c.status}${c.finished ? ', every journey ended' : ''}`;
  const quality = c.whatsappQuality ? [`${c.whatsappQuality.effect === 'paused' ? 'Paused' : 'Slowed'}: ${c.whatsappQuality.reason}`] : [];
  return [head, ...quality, table(rows)].join('\n');
}

/** What the upload's check found, before any journey starts. */
export function uploadSummary(start: any): string {
  const lines = [`Campaign ${start.campaignId}: ${n(start.rows.total)} rows, ${n(start.rows.accepted)} accepted, ${n(start.rows.skipped)} skipped`];
  const reasons = Object.entries(start.rows.skippedByReason ?? {}) as [string, number][];
  if (reasons.length) lines.push(table(reasons.map(([r, v]) => [`  ${r.replace(/_/g, ' ')}`, n(v)])));
  const skippedRows = (start.outcomes ?? []).filter((o: any) => o.outcome === 'skipped').slice(0, 10);
  if (skippedRows.length) {
    lines.push('First skipped rows:');
    lines.push(table(skippedRows.map((o: any) => [`  row ${o.row}`, o.phone || '(empty)', o.reason, o.detail ?? '']), undefined));
  }
  return lines.join('\n');
}

export function consentSummary(c: any): string {
  const head = `${c.phone} with ${c.businessName} (${c.businessId}): messaging ${c.messaging}${c.known ? '' : ' (unknown contact)'}`;
  const rows = (c.categories ?? []).map((x: any) => [x.category, x.status, x.since ? new Date(x.since).toISOString() : '']);
  return [head, table(rows, ['category', 'status', 'since'])].join('\n');
}

export function journeySummary(j: any): string {
  const head = `Journey ${j.journeyId}: ${j.status}${j.outcome?.reason ? ` (${j.outcome.reason})` : ''}, step ${j.stepIndex + 1} on ${j.channel || '-'}, ${j.attempts} attempt(s)`;
  const events = (j.events ?? []).slice(-10).map((e: any) => [e.at, e.direction, e.kind, e.channel ?? '']);
  return events.length ? [head, table(events, ['at', 'direction', 'kind', 'channel'])].join('\n') : head;
}
