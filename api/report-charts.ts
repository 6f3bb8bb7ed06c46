import { escapeHtml } from '../domain/escape';

/*
 * Charts of the report page as server-rendered SVG: no script, nothing fetched, readable by a screen
 * reader (role="img", a <title> per mark) and printable. Each figure a chart shows is also written as
 * text beside it, so the chart is a picture of numbers the page states.
 */

export const PALETTE = ['#128c7e', '#3b6fd8', '#e0902b', '#b3261e', '#7a4fb5', '#5a6270', '#2e9d4f', '#c2478a'];

export interface Bar {
  label: string;
  value: number;
  /** What the bar's end says; defaults to the value. */
  text?: string;
  color?: string;
}

const fmt = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(2));

/** Horizontal bars, one per row, scaled to the largest value (or to `max`). */
export function barChart(title: string, bars: Bar[], opts: { max?: number; width?: number } = {}): string {
  const width = opts.width ?? 560;
  const labelW = 150;
  const textW = 90;
  const rowH = 28;
  const height = Math.max(1, bars.length) * rowH + 8;
  const max = opts.max ?? Math.max(1, ...bars.map((b) => b.value));
  const span = width - labelW - textW;
  const rows = bars.map((b, i) => {
    const w = Math.max(b.value > 0 ? 2 : 0, Math.round((b.value / max) * span));
    const y = 4 + i * rowH;
    const text = b.text ?? fmt(b.value);
    return `<g><title>${escapeHtml(b.label)}: ${escapeHtml(text)}</title>
<text x="${labelW - 8}" y="${y + 18}" text-anchor="end" class="lbl">${escapeHtml(b.label)}</text>
<rect x="${labelW}" y="${y + 4}" width="${w}" height="${rowH - 10}" rx="3" fill="${b.color ?? PALETTE[0]}"/>
<text x="${labelW + w + 6}" y="${y + 18}" class="val">${escapeHtml(text)}</text></g>`;
  });
  if (bars.length === 0) rows.push(`<text x="${labelW}" y="20" class="lbl">nothing in this window</text>`);
  return `<svg role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg"><title>${escapeHtml(title)}</title>${rows.join('\n')}</svg>`;
}

export interface Column {
  label: string;
  /** One stacked part per series key. */
  parts: Record<string, number>;
}

/** Stacked columns over time (opt-outs per day by source); `keys` fixes the stacking order and colours. */
export function stackedColumns(title: string, columns: Column[], keys: string[]): string {
  const width = 640;
  const height = 220;
  const left = 36;
  const bottom = 24;
  const plotH = height - bottom - 10;
  const totals = columns.map((c) => Object.values(c.parts).reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...totals);
  const colW = (width - left - 4) / Math.max(1, columns.length);
  const bars = columns.map((c, i) => {
    let y = 10 + plotH;
    const x = left + i * colW + colW * 0.15;
    const parts = keys
      .filter((k) => (c.parts[k] ?? 0) > 0)
      .map((k) => {
        const h = (c.parts[k] / max) * plotH;
        y -= h;
        return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(colW * 0.7).toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[keys.indexOf(k) % PALETTE.length]}"><title>${escapeHtml(c.label)} ${escapeHtml(k)}: ${c.parts[k]}</title></rect>`;
      });
    const tick = columns.length <= 16 || i % Math.ceil(columns.length / 12) === 0 ? `<text x="${(x + colW * 0.35).toFixed(1)}" y="${height - 8}" text-anchor="middle" class="tick">${escapeHtml(c.label.slice(5))}</text>` : '';
    return `<g>${parts.join('')}${tick}</g>`;
  });
  const axis = `<line x1="${left}" y1="${10 + plotH}" x2="${width}" y2="${10 + plotH}" class="axis"/><text x="${left - 6}" y="16" text-anchor="end" class="tick">${max}</text><text x="${left - 6}" y="${10 + plotH}" text-anchor="end" class="tick">0</text>`;
  return `<svg role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg"><title>${escapeHtml(title)}</title>${axis}${bars.join('\n')}</svg>`;
}

/** The colour key of a stacked chart. */
export function legend(keys: string[]): string {
  return `<ul class="legend">${keys.map((k, i) => `<li><span class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></span>${escapeHtml(k)}</li>`).join('')}</ul>`;
}
