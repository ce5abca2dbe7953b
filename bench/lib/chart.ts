// A small SVG line chart of convergence time vs N (log-scaled N), written by hand: no dependency.

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A "nice" upper bound for an axis: 1, 2 or 5 × 10^k at or above `max`. */
function niceMax(max: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(max, 1e-9)));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

export function lineChart(options: {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly note?: string;
}): string {
  const width = 640;
  const height = 400;
  const m = { left: 64, right: 150, top: 40, bottom: 70 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const xs = options.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = options.series.flatMap((s) => s.points.map((p) => p.y));
  const x0 = Math.log10(Math.min(...xs));
  const x1 = Math.log10(Math.max(...xs));
  const yMax = niceMax(Math.max(...ys) * 1.05);
  const sx = (x: number) =>
    m.left + (x1 === x0 ? plotW / 2 : ((Math.log10(x) - x0) / (x1 - x0)) * plotW);
  const sy = (y: number) => Math.round((m.top + plotH - (y / yMax) * plotH) * 10) / 10;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12" role="img">`,
    `<title>${esc(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${m.left}" y="22" font-size="15" font-weight="bold">${esc(options.title)}</text>`,
  );
  for (let i = 0; i <= 5; i++) {
    const y = (yMax / 5) * i;
    out.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`,
      `<text x="${m.left - 8}" y="${sy(y) + 4}" text-anchor="end">${Number(y.toPrecision(3))}</text>`,
    );
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    out.push(
      `<line x1="${sx(x)}" x2="${sx(x)}" y1="${m.top}" y2="${m.top + plotH}" stroke="#eee"/>`,
      `<text x="${sx(x)}" y="${m.top + plotH + 18}" text-anchor="middle">${x}</text>`,
    );
  }
  out.push(
    `<line x1="${m.left}" x2="${m.left + plotW}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="#333"/>`,
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + plotH}" stroke="#333"/>`,
    `<text x="${m.left + plotW / 2}" y="${m.top + plotH + 40}" text-anchor="middle">${esc(options.xLabel)}</text>`,
    `<text transform="translate(18 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`,
  );
  options.series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    out.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(" ")}"/>`,
    );
    for (const p of pts) {
      out.push(
        `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.5" fill="${s.color}"><title>${esc(`${s.name}: N=${p.x}, ${p.y.toFixed(2)}`)}</title></circle>`,
      );
    }
    const ly = m.top + 10 + i * 20;
    out.push(
      `<line x1="${m.left + plotW + 16}" x2="${m.left + plotW + 36}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`,
      `<text x="${m.left + plotW + 42}" y="${ly + 4}">${esc(s.name)}</text>`,
    );
  });
  if (options.note !== undefined) {
    out.push(
      `<text x="${m.left}" y="${height - 10}" font-size="10" fill="#555">${esc(options.note)}</text>`,
    );
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
