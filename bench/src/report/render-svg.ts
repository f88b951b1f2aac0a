/**
 * A bar chart of a {@link BenchRun} as SVG text, without dependencies: for every pair, the source
 * ceiling, the broker ceiling and the bridge, in events per second on a log scale.
 */
import type { BenchRun } from './bench-run.js';

const series = [
  { name: 'source ceiling', color: '#9ecae1' },
  { name: 'broker client', color: '#fdae6b' },
  { name: 'bridge', color: '#31a354' },
] as const;

export function renderSvg(run: BenchRun): string {
  const rows = [
    ...run.notify.map((p) => ({ label: `notify → ${p.upstream} ${p.payloadBytes >= 1024 ? `${p.payloadBytes / 1024} KiB` : `${p.payloadBytes} B`}`, values: [p.ceilings.notify, p.ceilings.broker, p.bridge.eventsPerSecond], ratio: p.ratio })),
    ...run.wal.map((w) => ({ label: `${w.source} → amqp`, values: [w.ceilings.pgRecvlogical, w.ceilings.amqplibConfirmed, w.bridge.eventsPerSecond], ratio: w.ratio })),
  ];
  const left = 190;
  const plotWidth = 560;
  const bar = 7;
  const rowHeight = bar * 3 + 8;
  const top = 46;
  const height = top + rows.length * rowHeight + 40;
  const [minDecade, maxDecade] = [1, 6];
  const x = (value: number) => left + (Math.max(0, Math.log10(Math.max(value, 10)) - minDecade) / (maxDecade - minDecade)) * plotWidth;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + plotWidth + 70}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<text x="${left}" y="16" font-size="13" font-weight="bold">Events per second (log scale), ${run.date.slice(0, 10)}, ${run.machine.cores} cores, Node ${run.machine.node}, PG ${run.machine.postgres}</text>`,
  ];
  series.forEach((s, i) => out.push(`<rect x="${left + i * 130}" y="26" width="10" height="10" fill="${s.color}"/><text x="${left + i * 130 + 14}" y="35">${s.name}</text>`));
  for (let decade = minDecade; decade <= maxDecade; decade += 1) {
    const gx = x(10 ** decade);
    out.push(`<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${height - 30}" stroke="#ddd"/><text x="${gx}" y="${height - 16}" text-anchor="middle">${(10 ** decade).toLocaleString('en-US')}</text>`);
  }
  rows.forEach((row, r) => {
    const y = top + r * rowHeight;
    out.push(`<text x="${left - 6}" y="${y + bar * 2}" text-anchor="end">${escape(row.label)}</text>`);
    row.values.forEach((value, i) => out.push(`<rect x="${left}" y="${y + i * bar}" width="${Math.max(1, x(value) - left)}" height="${bar - 1}" fill="${series[i]!.color}"><title>${series[i]!.name}: ${Math.round(value)}/s</title></rect>`));
    out.push(`<text x="${x(row.values[2]!) + 4}" y="${y + bar * 3 - 1}" fill="#31a354">${row.ratio.toFixed(2)}</text>`);
  });
  out.push('</svg>', '');
  return out.join('\n');
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
