/** One panel of a chart: a quantity over the run; null where it could not be read. */
export interface ChartSeries {
  label: string;
  values: readonly (number | null)[];
  /** A horizontal line drawn across the panel, e.g. the bound. */
  limit?: { value: number; label: string };
}

const WIDTH = 720;
const PANEL = 130;
const LEFT = 64;
const RIGHT = 16;
const TOP = 40;
const GAP = 34;

const esc = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (value: number): string =>
  Math.abs(value) >= 100 ? value.toFixed(0) : Number(value.toPrecision(3)).toString();

/**
 * A line chart as hand-written SVG text, one panel per series over a shared x axis (seconds): a
 * picture for docs/benchmarks.md without a plotting dependency.
 */
export function lineChart(title: string, xs: readonly number[], series: ChartSeries[]): string {
  const height = TOP + series.length * (PANEL + GAP) + 10;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const xMax = Math.max(1, ...xs);
  const x = (value: number): number => LEFT + (value / xMax) * plotWidth;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="${LEFT}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  series.forEach((s, index) => {
    const top = TOP + index * (PANEL + GAP);
    const bottom = top + PANEL;
    const known = s.values.filter((v): v is number => v !== null);
    parts.push(
      `<text x="${LEFT}" y="${top - 6}" font-weight="bold">${esc(s.label)}</text>`,
      `<rect x="${LEFT}" y="${top}" width="${plotWidth}" height="${PANEL}" fill="none" stroke="#ccc"/>`,
      `<text x="${LEFT}" y="${bottom + 14}">0 s</text>`,
      `<text x="${WIDTH - RIGHT}" y="${bottom + 14}" text-anchor="end">${fmt(xMax)} s</text>`,
    );
    if (known.length === 0) {
      parts.push(
        `<text x="${LEFT + plotWidth / 2}" y="${top + PANEL / 2}" text-anchor="middle" fill="#888">not available</text>`,
      );
      return;
    }
    // From zero: a leak shows as a slope, not as noise blown up to the panel's height.
    const yMax = Math.max(...known, s.limit?.value ?? 0) * 1.1 || 1;
    const y = (value: number): number => bottom - (value / yMax) * PANEL;
    parts.push(
      `<text x="${LEFT - 6}" y="${top + 4}" text-anchor="end">${fmt(yMax)}</text>`,
      `<text x="${LEFT - 6}" y="${bottom}" text-anchor="end">0</text>`,
    );
    if (s.limit) {
      const ly = y(s.limit.value).toFixed(1);
      parts.push(
        `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${ly}" y2="${ly}" stroke="#c33" stroke-dasharray="4 3"/>`,
        `<text x="${WIDTH - RIGHT - 4}" y="${Number(ly) - 4}" text-anchor="end" fill="#c33">${esc(s.limit.label)}</text>`,
      );
    }
    const points = s.values
      .map((v, i) => (v === null ? undefined : `${x(xs[i]!).toFixed(1)},${y(v).toFixed(1)}`))
      .filter((p): p is string => p !== undefined);
    parts.push(
      `<polyline points="${points.join(' ')}" fill="none" stroke="#1565c0" stroke-width="1.5"/>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
