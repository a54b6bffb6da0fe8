/**
 * Small SVG charts drawn on the server (no chart library, no script). Colours come from classes in the
 * console's stylesheet; every value is interpolated through `hono/html`, so labels are escaped.
 */
import { h, type Html } from './ui.js';

/** The smallest "nice" number (1, 2, 2.5, 5 × 10^k) at least `v`; 1 for 0. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * exp >= v) return m * exp;
  return 10 * exp;
}

export interface BarSeries {
  name: string;
  /** CSS class of the bars, e.g. `s-ok`. */
  cls: string;
  values: number[];
}

export interface BarChartOptions {
  title: string;
  labels: string[];
  series: BarSeries[];
  /** Stack the series (default) or draw them side by side. */
  stacked?: boolean;
  format?: (v: number) => string;
  /** Counts: ticks on whole numbers. */
  integer?: boolean;
  width?: number;
  height?: number;
}

/** A vertical bar chart with a y grid, x labels and a tooltip (`<title>`) per bar. */
export function barChart(o: BarChartOptions): Html {
  const width = o.width ?? 720;
  const height = o.height ?? 220;
  const fmt = o.format ?? ((v: number) => String(v));
  const left = 52;
  const right = 10;
  const top = 12;
  const bottom = 28;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const n = o.labels.length;
  const stacked = o.stacked !== false;
  const totals = o.labels.map((_, i) =>
    stacked
      ? o.series.reduce((s, se) => s + (se.values[i] ?? 0), 0)
      : Math.max(0, ...o.series.map((se) => se.values[i] ?? 0)),
  );
  const rawStep = niceCeil(Math.max(0, ...totals) / 4);
  const max = 4 * (o.integer ? Math.max(1, Math.ceil(rawStep)) : rawStep);
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const slot = n === 0 ? plotW : plotW / n;
  const barW = Math.max(2, Math.min(36, slot * 0.62));
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  const labelEvery = Math.max(1, Math.ceil(n / 16));
  const bars: Html[] = [];
  o.labels.forEach((label, i) => {
    const cx = left + slot * i + slot / 2;
    let base = 0;
    o.series.forEach((se, k) => {
      const v = se.values[i] ?? 0;
      if (v <= 0) return;
      const w = stacked ? barW : barW / o.series.length;
      const x = stacked ? cx - barW / 2 : cx - barW / 2 + k * w;
      const y0 = stacked ? y(base + v) : y(v);
      const hgt = stacked ? y(base) - y(base + v) : y(0) - y(v);
      if (stacked) base += v;
      bars.push(
        h`<rect class="bar ${se.cls}" x="${x.toFixed(1)}" y="${y0.toFixed(1)}" width="${w.toFixed(1)}" height="${Math.max(0.5, hgt).toFixed(1)}" rx="2"><title>${label} · ${se.name}: ${fmt(v)}</title></rect>`,
      );
    });
  });
  return h`<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${o.title}" xmlns="http://www.w3.org/2000/svg">
<title>${o.title}</title>
${ticks.map(
  (v) =>
    h`<line class="grid-line" x1="${left}" x2="${width - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/><text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`,
)}
<line class="axis" x1="${left}" x2="${width - right}" y1="${y(0)}" y2="${y(0)}"/>
${bars}
${o.labels.map((label, i) =>
  i % labelEvery === 0 || i === n - 1
    ? h`<text x="${(left + slot * i + slot / 2).toFixed(1)}" y="${height - 9}" text-anchor="middle">${label}</text>`
    : '',
)}
</svg>`;
}

/** A half-ring gauge for a ratio 0..1 (or "—" when null). */
export function gauge(o: { title: string; ratio: number | null; label: string; cls?: string }): Html {
  const r = 52;
  const cx = 70;
  const cy = 66;
  const ratio = o.ratio === null ? 0 : Math.min(1, Math.max(0, o.ratio));
  const arc = (from: number, to: number) => {
    const a0 = Math.PI * (1 - from);
    const a1 = Math.PI * (1 - to);
    const x0 = cx + r * Math.cos(a0);
    const y0 = cy - r * Math.sin(a0);
    const x1 = cx + r * Math.cos(a1);
    const y1 = cy - r * Math.sin(a1);
    return `M${x0.toFixed(2)} ${y0.toFixed(2)} A${r} ${r} 0 0 1 ${x1.toFixed(2)} ${y1.toFixed(2)}`;
  };
  return h`<svg class="chart gauge" viewBox="0 0 140 84" width="140" height="84" role="img" aria-label="${o.title}: ${o.label}" xmlns="http://www.w3.org/2000/svg">
<title>${o.title}: ${o.label}</title>
<path d="${arc(0, 1)}" fill="none" stroke="#eef1f4" stroke-width="12" stroke-linecap="round"/>
${ratio > 0 ? h`<path d="${arc(0, ratio)}" fill="none" stroke="${ratio >= 0.95 ? '#2f9e58' : ratio >= 0.8 ? '#f59f00' : '#e5534b'}" stroke-width="12" stroke-linecap="round"/>` : ''}
<text class="gauge-text" x="${cx}" y="${cy - 6}" text-anchor="middle">${o.label}</text>
</svg>`;
}

/** Horizontal bars, one per row, each with its label and value (latency quantiles, verdict counts). */
export function hbars(o: {
  title: string;
  rows: { label: string; value: number; cls: string; text: string }[];
  width?: number;
}): Html {
  const width = o.width ?? 420;
  const rowH = 26;
  const labelW = 92;
  const valueW = 70;
  const plotW = width - labelW - valueW;
  const max = niceCeil(Math.max(0, ...o.rows.map((r) => r.value)));
  const height = o.rows.length * rowH + 6;
  return h`<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${o.title}" xmlns="http://www.w3.org/2000/svg">
<title>${o.title}</title>
${o.rows.map((r, i) => {
  const yy = 4 + i * rowH;
  const w = (r.value / max) * plotW;
  return h`<text x="0" y="${yy + 15}">${r.label}</text>
<rect class="track" x="${labelW}" y="${yy + 3}" width="${plotW}" height="14" rx="3"/>
${w > 0 ? h`<rect class="bar ${r.cls}" x="${labelW}" y="${yy + 3}" width="${Math.max(2, w).toFixed(1)}" height="14" rx="3"><title>${r.label}: ${r.text}</title></rect>` : ''}
<text x="${labelW + plotW + 8}" y="${yy + 15}">${r.text}</text>`;
})}
</svg>`;
}
