import { table } from './format';

/* The consent report (GET /v1/reports/consent) as plain-text tables for a campaign owner. */

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${(v * 100).toFixed(1)}%`);
const secs = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v < 120 ? `${v.toFixed(1)} s` : `${(v / 60).toFixed(1)} min`);
const n = (v: number | undefined) => (v ?? 0).toLocaleString('en-US');

const FUNNEL = ['started', 'confirmed', 'declined', 'expired', 'optedOut', 'cancelled', 'active'] as const;
const funnelRow = (j: any) => [...FUNNEL.map((k) => n(j[k])), pct(j.optInRate)];
const FUNNEL_HEADER = ['started', 'confirmed', 'declined', 'expired', 'opted out', 'cancelled', 'active', 'opt-in rate'];

const counts = (title: string, record: Record<string, number>) => {
  const rows = Object.entries(record ?? {}).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k.replace(/_/g, ' '), n(v)]);
  return rows.length ? `${title}\n${table(rows.map((r) => [`  ${r[0]}`, r[1]]))}` : `${title}: none`;
};

const stats = (label: string, s: any, extra: string[] = []) => [label, n(s?.count), secs(s?.p50), secs(s?.p95), secs(s?.p99), ...extra];

export function consentReportSummary(r: any): string {
  const out: string[] = [];
  out.push(`Consent report for ${r.businessId}, ${r.from.slice(0, 16).replace('T', ' ')} to ${r.to.slice(0, 16).replace('T', ' ')} UTC`);
  out.push('', table([['all', ...funnelRow(r.journeys)], ...r.groups.map((g: any) => [`  ${r.groupBy} ${g.key}`, ...funnelRow(g)])], ['journeys', ...FUNNEL_HEADER]));

  out.push('', `Opt-outs: ${n(r.optOuts.total)}`, counts('by source', r.optOuts.bySource), counts('by channel', r.optOuts.byChannel));
  const keywords = r.optOuts.byKeyword.map((k: any) => [`  ${k.keyword}`, k.language ?? '-', n(k.count)]);
  if (keywords.length) out.push(`by keyword\n${table(keywords)}`);

  const honour = r.timeToHonour;
  out.push(
    '',
    table(
      [stats('STOP to ledger', honour.ledger, ['']), stats('STOP to confirmation sent', honour.confirmation, [pct(honour.confirmation.withinFiveMinutes)])],
      ['time to honour', 'count', 'p50', 'p95', 'p99', 'within 5 min'],
    ),
  );
  const answers = Object.entries(r.answers.timeToAnswer).map(([channel, s]) => stats(`  ${channel}`, s));
  if (answers.length) out.push('', table(answers, ['time to answer', 'count', 'p50', 'p95', 'p99']));

  const series = r.series.filter((b: any) => b.journeys.started || b.optOuts).map((b: any) => [b.start.slice(0, 10), n(b.journeys.started), n(b.journeys.confirmed), pct(b.journeys.optInRate), n(b.optOuts)]);
  out.push('', series.length ? table(series, [r.interval, 'started', 'confirmed', 'opt-in rate', 'opt-outs']) : `No journeys or opt-outs in any ${r.interval}.`);
  return out.join('\n');
}
