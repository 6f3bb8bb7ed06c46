import type { KeyRing } from '../../lib/api-keys';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { escapeHtml } from '../../domain/escape';
import { consentReport, reportLinkAllows, type ConsentReportAnswer } from '../../services/reports';
import { hasApiKey } from '../auth';
import type { ApiDeps } from '../app';
import { pageErrorHandler, sendProblemPage } from '../html';
import { barChart, legend, PALETTE, stackedColumns } from '../report-charts';
import { checkWindow, reportWindow, windowOf } from './reports';
import { businessParams } from './webform';

export const reportPageQuery = z
  .object({
    ...reportWindow,
    token: z.string().max(2000).optional().meta({ description: 'a signed link token from GET /v1/reports/link; or send the API key' }),
  })
  .transform(windowOf)
  .superRefine(checkWindow);

const STYLE = `body{font-family:system-ui,sans-serif;max-width:72rem;margin:1.5rem auto;padding:0 1rem;color:#1b1f24;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin:0 0 .6rem}.muted{color:#5a6270;font-size:.9rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(30rem,1fr));gap:1rem}
section{border:1px solid #dde1e6;border-radius:10px;padding:1rem 1.2rem;background:#fff}
.kpis{display:flex;flex-wrap:wrap;gap:1.5rem;margin:1rem 0}.kpi b{display:block;font-size:1.7rem}.kpi>span{color:#5a6270;font-size:.85rem}
svg .lbl{font-size:12px;fill:#1b1f24}svg .val{font-size:12px;fill:#5a6270}svg .tick{font-size:10px;fill:#5a6270}svg .axis{stroke:#c5c9d0}
table{border-collapse:collapse;font-size:.85rem;margin-top:.6rem}td,th{padding:.2rem .6rem;border-bottom:1px solid #eef;text-align:right}td:first-child,th:first-child{text-align:left}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.8rem;font-size:.85rem}.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.3rem;vertical-align:-.1rem}`;

const pct = (r: number | null | undefined) => (r === null || r === undefined ? '–' : `${(r * 100).toFixed(1)}%`);
const secs = (s: number | null) => (s === null ? '–' : `${s} s`);
/** A figure the page states, tagged so a reader (or the browser test) finds it by name. */
const fig = (name: string, text: string) => `<span data-figure="${escapeHtml(name)}">${escapeHtml(text)}</span>`;

function funnel(r: ConsentReportAnswer): string {
  const j = r.journeys;
  const outcomes: [string, keyof typeof j][] = [['started', 'started'], ['confirmed', 'confirmed'], ['declined', 'declined'], ['expired', 'expired'], ['opted out', 'optedOut'], ['cancelled', 'cancelled'], ['still running', 'active']];
  const bars = outcomes.map(([label, k], i) => ({ label, value: Number(j[k] ?? 0), color: PALETTE[i === 0 ? 5 : i - 1] }));
  return `<section><h2>Funnel: journeys started in the window, by outcome now</h2>${barChart('Journeys by outcome', bars)}
<table><tr>${outcomes.map(([label]) => `<th>${label}</th>`).join('')}</tr><tr>${outcomes.map(([, k]) => `<td>${fig(`journeys.${k}`, String(j[k]))}</td>`).join('')}</tr></table></section>`;
}

function rateBy(title: string, dimension: string, r: ConsentReportAnswer): string {
  const bars = r.groups.map((g) => ({ label: g.key, value: g.optInRate ?? 0, text: `${pct(g.optInRate)} of ${g.started}` }));
  const rows = r.groups.map((g) => `<tr><td>${escapeHtml(g.key)}</td><td>${fig(`${dimension}.${g.key}.started`, String(g.started))}</td><td>${fig(`${dimension}.${g.key}.confirmed`, String(g.confirmed))}</td><td>${fig(`${dimension}.${g.key}.optInRate`, pct(g.optInRate))}</td></tr>`);
  return `<section><h2>${escapeHtml(title)}</h2>${barChart(title, bars, { max: 1 })}<table><tr><th>${dimension}</th><th>started</th><th>confirmed</th><th>opt-in rate</th></tr>${rows.join('')}</table></section>`;
}

function optOutsPerDay(r: ConsentReportAnswer): string {
  const sources = Object.keys(r.optOuts.bySource).sort((a, b) => r.optOuts.bySource[b] - r.optOuts.bySource[a] || a.localeCompare(b));
  const columns = r.series.map((s) => ({ label: s.start.slice(0, 10), parts: s.optOutsBySource }));
  const rows = sources.map((s) => `<tr><td>${escapeHtml(s)}</td><td>${fig(`optOuts.bySource.${s}`, String(r.optOuts.bySource[s]))}</td></tr>`);
  return `<section><h2>Opt-outs per ${r.interval} by source</h2>${stackedColumns('Opt-outs per day by source', columns, sources)}${legend(sources)}
<table><tr><th>source</th><th>opt-outs</th></tr>${rows.join('')}<tr><th>total</th><th>${fig('optOuts.total', String(r.optOuts.total))}</th></tr></table></section>`;
}

function timeToHonour(r: ConsentReportAnswer): string {
  const { ledger, confirmation } = r.timeToHonour;
  const bars = (['p50', 'p95', 'p99'] as const).flatMap((p) => [
    { label: `ledger ${p}`, value: ledger[p] ?? 0, text: secs(ledger[p]), color: PALETTE[0] },
    { label: `confirmation ${p}`, value: confirmation[p] ?? 0, text: secs(confirmation[p]), color: PALETTE[1] },
  ]);
  const row = (name: string, s: typeof ledger) => `<tr><td>${name}</td><td>${fig(`timeToHonour.${name}.count`, String(s.count))}</td>${(['p50', 'p95', 'p99'] as const).map((p) => `<td>${fig(`timeToHonour.${name}.${p}`, secs(s[p]))}</td>`).join('')}</tr>`;
  return `<section><h2>Time to honour an opt-out (STOP received → …)</h2>${barChart('Time to honour, seconds', bars)}
<table><tr><th>until</th><th>count</th><th>p50</th><th>p95</th><th>p99</th></tr>${row('ledger', ledger)}${row('confirmation', confirmation)}</table>
<p>Confirmations within 5 minutes: ${fig('timeToHonour.confirmation.withinFiveMinutes', pct(confirmation.withinFiveMinutes))}</p></section>`;
}

function reportHtml(businessName: string, byChannel: ConsentReportAnswer, byMethod: ConsentReportAnswer): string {
  const r = byChannel;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>Consent report: ${escapeHtml(businessName)}</title><style>${STYLE}</style></head><body>
<h1>Consent report: ${escapeHtml(businessName)}</h1>
<p class="muted">Journeys that started, and opt-outs received, from ${fig('from', r.from)} to ${fig('to', r.to)} (UTC). ${r.computedFrom === 'daily' ? `From the daily figures, current as of ${escapeHtml(r.asOf)}.` : `Computed ${escapeHtml(r.generatedAt)}.`}</p>
<div class="kpis"><div class="kpi"><b>${fig('journeys.optInRate', pct(r.journeys.optInRate))}</b><span>opt-in rate (confirmed of ended)</span></div>
<div class="kpi"><b>${fig('kpi.started', String(r.journeys.started))}</b><span>journeys started</span></div>
<div class="kpi"><b>${fig('kpi.optOuts', String(r.optOuts.total))}</b><span>opt-outs</span></div>
<div class="kpi"><b>${fig('messages.optOutRate', pct(r.messages.optOutRate))}</b><span>opt-outs per message sent (${fig('messages.sent', String(r.messages.sent))} sent)</span></div>
<div class="kpi"><b>${fig('kpi.confirmationP95', secs(r.timeToHonour.confirmation.p95))}</b><span>STOP → confirmation, p95</span></div></div>
<div class="grid">${funnel(r)}${rateBy('Opt-in rate by channel (first channel of the plan)', 'channel', byChannel)}${rateBy('Opt-in rate by method (what asked)', 'method', byMethod)}${optOutsPerDay(r)}${timeToHonour(r)}</div>
</body></html>`;
}

/**
 * The report page of one business, behind the API key or a signed link (GET /v1/reports/link). No
 * script: the charts are SVG drawn here from the same report GET /v1/reports/consent answers.
 */
export function registerReportPageRoutes(app: FastifyInstance, deps: ApiDeps, keys: KeyRing): void {
  app.get('/reports/:businessId', { errorHandler: pageErrorHandler }, async (request, reply) => {
    const params = businessParams.safeParse(request.params);
    const business = params.success ? deps.businesses.get(params.data.businessId) : undefined;
    if (!business) return sendProblemPage(reply, 404, 'No such report', 'There is no business at this address.');
    const q = reportPageQuery.safeParse(request.query);
    if (!q.success) return sendProblemPage(reply, 400, 'This report address is not valid', q.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; '));
    const allowed = hasApiKey(request.headers.authorization, keys, business.id) ? 'ok' : q.data.token ? reportLinkAllows(deps, q.data.token, business.id) : 'invalid';
    if (allowed !== 'ok') return sendProblemPage(reply, 401, allowed === 'expired' ? 'This report link has expired' : 'This report needs a key or a valid link', 'Ask for a new link (GET /v1/reports/link), or send the API key.');
    const window = { businessId: business.id, from: q.data.from, to: q.data.to, interval: 'day' as const };
    const [byChannel, byMethod] = await Promise.all([consentReport(deps, { ...window, groupBy: 'channel' }), consentReport(deps, { ...window, groupBy: 'method' })]);
    return reply
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'")
      .type('text/html; charset=utf-8')
      .send(reportHtml(business.name, byChannel, byMethod));
  });
}
