/**
 * The bench's outputs: report.json (every figure, and the samples over time), summary.md (the tables), chart.svg
 * (throughput, latency, consumer lag and CPU over time) and, for a sweep, sweep.svg (achieved rate and latency per
 * offered rate, with the knee). The SVG is written by hand: no charting dependency for four line charts.
 */
import { PhaseResult } from './analyze';
import { Ceilings } from './ceilings';
import { CpuSample, LagSample } from './sampler';
import { formatMs, Percentiles } from './stats';

export interface BenchReport {
  startedAt: string;
  commit?: string;
  machine: { cpus: number };
  options: Record<string, unknown>;
  ceilings: Ceilings;
  phases: PhaseResult[];
  sweep?: { kneeRate: number | null; criterion: string; stopReason?: string };
  lag: LagSample[];
  cpu: CpuSample[];
}

/** JSON without the per-claim records (large), with ∞ spelled out rather than turned into null. */
export function toJson(report: BenchReport): string {
  const phases = report.phases.map((p) => ({ ...p, claims: undefined }));
  return `${JSON.stringify({ ...report, phases }, (_k, v: unknown) => (v === Infinity ? 'Infinity' : v), 2)}\n`;
}

const fixed = (n: number | null | undefined, digits = 1) =>
  n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits);

function row(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

function percentileRows(title: string, entries: [string, Percentiles][]): string[] {
  return [
    row([title, 'n', 'p50', 'p99', 'p99.9', 'max']),
    row(['---', '---:', '---:', '---:', '---:', '---:']),
    ...entries.map(([name, p]) =>
      row([
        name,
        `${p.count}${p.missing ? ` (+${p.missing} never)` : ''}`,
        formatMs(p.p50),
        formatMs(p.p99),
        formatMs(p.p999),
        formatMs(p.max),
      ]),
    ),
  ];
}

/** Mean cores per process group over the samples taken in the window. */
export function cpuIn(report: BenchReport, window: { start: number; end: number }): [string, number][] {
  const samples = report.cpu.filter((s) => s.t > window.start && s.t <= window.end + 1000);
  const sums = new Map<string, number>();
  for (const s of samples) for (const [g, c] of Object.entries(s.cores)) sums.set(g, (sums.get(g) ?? 0) + c);
  return [...sums].map(([g, c]): [string, number] => [g, c / Math.max(1, samples.length)]).sort((a, b) => b[1] - a[1]);
}

function machineBusyIn(report: BenchReport, window: { start: number; end: number }): number {
  const samples = report.cpu.filter((s) => s.t > window.start && s.t <= window.end + 1000);
  return samples.reduce((a, s) => a + s.machineBusy, 0) / Math.max(1, samples.length);
}

/** Per group: the most it lagged in the window and where it stood at the window's end (sum over its topics). */
function lagIn(report: BenchReport, window: { start: number; end: number }) {
  const samples = report.lag.filter((s) => s.t >= window.start && s.t <= window.end + 2000);
  const groups = new Map<string, { max: number; end: number; worstTopic: string; worstTopicLag: number }>();
  for (const s of samples) {
    for (const [group, topics] of Object.entries(s.lag)) {
      const total = Object.values(topics).reduce((a, b) => a + b, 0);
      const g = groups.get(group) ?? { max: 0, end: 0, worstTopic: '', worstTopicLag: 0 };
      g.max = Math.max(g.max, total);
      g.end = total;
      for (const [topic, lag] of Object.entries(topics)) {
        if (lag > g.worstTopicLag) Object.assign(g, { worstTopic: topic, worstTopicLag: lag });
      }
      groups.set(group, g);
    }
  }
  return [...groups].sort(([a], [b]) => a.localeCompare(b));
}

export function summaryMarkdown(report: BenchReport): string {
  const o = report.options;
  const lines: string[] = [
    `# claimchain end-to-end bench, ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC` +
      (report.commit ? ` (${report.commit})` : ''),
    '',
    `${report.machine.cpus} CPUs, ${String(o.instances)} process(es) per service; ` +
      (o.sweep
        ? `sweep of ${(o.rates as number[]).join(', ')} claims/s, ${String(o.stepSeconds)} s each`
        : `${String(o.rate)} claims/s for ${String(o.seconds)} s after a ${String(o.warmup)} s warm-up`) +
      `, drain ≤ ${String(o.drain)} s. Latencies from the services' own timestamps.`,
    '',
    '## Throughput',
    '',
    row(['phase', 'offered/s', 'achieved/s', 'shown/s', 'sent', 'accepted', 'finished', 'unfinished', 'errors']),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---']),
    ...report.phases.map((p) =>
      row([
        p.name,
        p.offeredRate,
        fixed(p.achievedRate),
        fixed(p.achievedShownRate),
        p.sent,
        p.accepted,
        p.finished,
        p.unfinished,
        Object.entries(p.errors)
          .map(([k, v]) => `${k}: ${v}`)
          .join('; ') || '0',
      ]),
    ),
    '',
    '*achieved/s*: claims reaching their end in the owning service during the phase (settled, denied, pended or ' +
      'verification-rejected) per second; *shown/s*: the same as claim-intake showed them (paid, denied, pended, ' +
      'verification-rejected); *unfinished*: confirmed claims of the phase with no end when the drain stopped.',
    '',
  ];
  for (const p of report.phases) {
    const outcomes = Object.entries(p.outcomes)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push(
      `## ${p.name}: ${p.offeredRate} claims/s offered`,
      '',
      `Outcomes: ${outcomes || 'none'}; ended otherwise than meant: ${p.mismatched}; unfinished by kind: ` +
        `${JSON.stringify(p.unfinishedByExpected)}. Load generator lag p99 ${formatMs(p.generatorLagMs.p99)}.`,
      '',
      ...percentileRows('stage (server-side timestamps)', [
        ...Object.entries(p.stages),
        ['**accepted→paid** (released, claims meant to be paid)', p.submitToPaid],
        ['accepted→finished (any end)', p.submitToFinished],
      ]),
      '',
      ...percentileRows("claim-intake's status view: shown − happened", Object.entries(p.staleness)),
      '',
      ...percentileRows('delivery: consumer ← topic (inbox − event time)', Object.entries(p.delivery)),
      '',
      ...percentileRows('outbox relay (published − written)', Object.entries(p.relay)),
      '',
      ...percentileRows('HTTP, as the client sees it', [
        ['POST /v1/claims (from when it was due)', p.http.claimMs],
        ['POST /v1/confirmations', p.http.confirmationMs],
      ]),
      '',
      row(['consumer group', 'max lag', 'lag at end of phase', 'worst topic (its max)']),
      row(['---', '---:', '---:', '---']),
      ...lagIn(report, p.window).map(([g, l]) =>
        row([g, l.max, l.end, l.worstTopicLag > 0 ? `${l.worstTopic} (${l.worstTopicLag})` : '–']),
      ),
      '',
      `CPU during the phase (mean cores; the machine was ${(machineBusyIn(report, p.window) * 100).toFixed(0)}% ` +
        `busy over ${report.machine.cpus} cores): ` +
        cpuIn(report, p.window)
          .filter(([, c]) => c >= 0.005)
          .map(([g, c]) => `${g} ${c.toFixed(2)}`)
          .join(', '),
      '',
    );
    if (p.perClaim) lines.push(...ceilingRows(report.ceilings, p), '');
  }
  if (report.sweep) {
    lines.push(
      '## Sweep',
      '',
      row(['offered/s', 'achieved/s', 'accepted→paid p50', 'p99', 'p99.9', 'unfinished']),
      row(['---:', '---:', '---:', '---:', '---:', '---:']),
      ...report.phases.map((p) =>
        row([
          p.offeredRate,
          fixed(p.achievedRate),
          formatMs(p.submitToPaid.p50),
          formatMs(p.submitToPaid.p99),
          formatMs(p.submitToPaid.p999),
          p.unfinished,
        ]),
      ),
      '',
      `**Knee** (${report.sweep.criterion}): ` +
        (report.sweep.kneeRate === null ? 'no step met it' : `${report.sweep.kneeRate} claims/s`) +
        (report.sweep.stopReason ? `; ${report.sweep.stopReason}` : ''),
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

function ceilingRows(c: Ceilings, p: PhaseResult): string[] {
  const per = p.perClaim!;
  const allowedByPg = c.postgres.commitsPerSecond / per.commits;
  const allowedByKafka = c.kafka.flatOut.messagesPerSecond / per.messages;
  return [
    row([
      'ceiling (same machine, same run)',
      'measured',
      'our cost per claim',
      'claims/s it allows',
      'achieved ÷ that',
    ]),
    row(['---', '---:', '---:', '---:', '---:']),
    row([
      `Postgres durable commits, ${c.postgres.clients} clients single-row INSERT`,
      `${c.postgres.commitsPerSecond.toFixed(0)}/s (p99 ${formatMs(c.postgres.commitLatencyMs.p99)})`,
      `${per.commits.toFixed(1)} transactions`,
      allowedByPg.toFixed(0),
      `${((p.achievedRate / allowedByPg) * 100).toFixed(1)}%`,
    ]),
    row([
      `kafkajs produce→consume, ${c.kafka.messageBytes} B messages`,
      `${c.kafka.flatOut.messagesPerSecond.toFixed(0)}/s flat out; p50 ${formatMs(c.kafka.fixedRate.latencyMs.p50)} ` +
        `p99 ${formatMs(c.kafka.fixedRate.latencyMs.p99)} at ${c.kafka.fixedRate.rate}/s`,
      `${per.messages.toFixed(1)} messages`,
      allowedByKafka.toFixed(0),
      `${((p.achievedRate / allowedByKafka) * 100).toFixed(1)}%`,
    ]),
    '',
    'Transactions per claim: every transaction committed in the four databases during the phase (pg_stat_database, ' +
      'read-only ones included) over the claims finished in it; messages: every record produced to every topic.',
  ];
}

// ---------------------------------------------------------------------------------------------------------- SVG

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f'];
const W = 960;
const PANEL_H = 190;
const MARGIN = { left: 70, right: 190, top: 28, bottom: 28 };

interface Series {
  name: string;
  points: [number, number | null][];
  dashed?: boolean;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= v)!;
}

/** Round steps (1, 2, 5 × 10ⁿ) from a to b, at most about eight of them. */
function niceTicks(a: number, b: number): number[] {
  const span = Math.max(1e-9, b - a);
  const raw = span / 8;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((m) => m >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(a / step) * step; t <= b + 1e-9; t += step) ticks.push(t);
  return ticks;
}

function panel(opts: {
  top: number;
  title: string;
  x: [number, number];
  xLabel: (x: number) => string;
  xTicks?: number[];
  series: Series[];
  log?: boolean;
  yLabel: (y: number) => string;
  bands?: [number, number][];
  hline?: { y: number; label: string };
  marker?: { x: number; label: string };
}): string {
  const { top, x } = opts;
  const left = MARGIN.left;
  const width = W - MARGIN.left - MARGIN.right;
  const height = PANEL_H - MARGIN.top - MARGIN.bottom;
  const y0 = top + MARGIN.top;
  const values = opts.series.flatMap((s) => s.points.map((p) => p[1])).filter((v): v is number => v !== null);
  const finite = values.filter(Number.isFinite);
  let yMin: number;
  let yMax: number;
  if (opts.log) {
    yMin = 10 ** Math.floor(Math.log10(Math.max(1, Math.min(...finite, opts.hline?.y ?? Infinity))));
    yMax = 10 ** Math.ceil(Math.log10(Math.max(10, ...finite, opts.hline?.y ?? 0)));
  } else {
    yMin = 0;
    yMax = niceMax(Math.max(0, ...finite));
  }
  const sx = (v: number) => left + ((v - x[0]) / Math.max(1e-9, x[1] - x[0])) * width;
  const sy = (v: number) => {
    const f = opts.log
      ? (Math.log10(Math.max(v, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))
      : (v - yMin) / (yMax - yMin);
    return y0 + height - Math.min(1, Math.max(0, f)) * height;
  };
  const out: string[] = [];
  out.push(`<text x="${left}" y="${top + 18}" font-weight="bold">${esc(opts.title)}</text>`);
  for (const [a, b] of opts.bands ?? []) {
    out.push(
      `<rect x="${sx(a).toFixed(1)}" y="${y0}" width="${(sx(b) - sx(a)).toFixed(1)}" height="${height}" fill="#f2f2f2"/>`,
    );
  }
  const yTicks = opts.log
    ? Array.from({ length: Math.round(Math.log10(yMax / yMin)) + 1 }, (_, i) => yMin * 10 ** i)
    : [0, 0.2, 0.4, 0.6, 0.8, 1].map((f) => yMin + f * (yMax - yMin));
  for (const t of yTicks) {
    out.push(
      `<line x1="${left}" x2="${left + width}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${esc(opts.yLabel(t))}</text>`,
    );
  }
  const xTicks = opts.xTicks ?? niceTicks(x[0], x[1]);
  for (const t of xTicks) {
    out.push(
      `<text x="${sx(t).toFixed(1)}" y="${y0 + height + 16}" text-anchor="middle">${esc(opts.xLabel(t))}</text>`,
    );
  }
  out.push(`<rect x="${left}" y="${y0}" width="${width}" height="${height}" fill="none" stroke="#999"/>`);
  if (opts.hline) {
    const y = sy(opts.hline.y).toFixed(1);
    out.push(
      `<line x1="${left}" x2="${left + width}" y1="${y}" y2="${y}" stroke="#000" stroke-dasharray="2,3"/>`,
      `<text x="${left + width - 4}" y="${Number(y) - 4}" text-anchor="end">${esc(opts.hline.label)}</text>`,
    );
  }
  if (opts.marker) {
    const mx = sx(opts.marker.x).toFixed(1);
    out.push(
      `<line x1="${mx}" x2="${mx}" y1="${y0}" y2="${y0 + height}" stroke="#2ca02c" stroke-width="2"/>`,
      `<text x="${Number(mx) + 4}" y="${y0 + 14}" fill="#2ca02c">${esc(opts.marker.label)}</text>`,
    );
  }
  opts.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    // A missing value breaks the line; ∞ (never finished) is drawn at the top edge.
    let segment: string[] = [];
    const flush = () => {
      if (segment.length > 1) {
        out.push(
          `<polyline fill="none" stroke="${colour}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="5,3"' : ''} points="${segment.join(' ')}"/>`,
        );
      } else if (segment.length === 1) {
        const [cx, cy] = segment[0].split(',');
        out.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${colour}"/>`);
      }
      segment = [];
    };
    for (const [px, py] of s.points) {
      if (py === null) flush();
      else segment.push(`${sx(px).toFixed(1)},${sy(Number.isFinite(py) ? py : yMax).toFixed(1)}`);
    }
    flush();
    const ly = y0 + 4 + i * 15;
    out.push(
      `<line x1="${left + width + 10}" x2="${left + width + 28}" y1="${ly + 4}" y2="${ly + 4}" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>`,
      `<text x="${left + width + 32}" y="${ly + 8}">${esc(s.name)}</text>`,
    );
  });
  return out.join('\n');
}

function svg(height: number, body: string, title: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${esc(title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}

const shortGroup = (g: string) => g.replace(/^claimchain\./, '');

/** Throughput, latency, consumer lag and CPU over the run (seconds since the first claim was due). */
export function chartSvg(report: BenchReport): string {
  const series = report.phases.flatMap((p) => p.series).sort((a, b) => a.t - b.t);
  const t0 = series[0]?.t ?? Date.now();
  const tEnd = Math.max(series.at(-1)?.t ?? t0, t0 + 1000);
  const rel = (t: number) => (t - t0) / 1000;
  const x: [number, number] = [0, rel(tEnd)];
  const bands = report.phases.map((p): [number, number] => [rel(p.window.start), rel(p.window.end)]);
  const sLabel = (v: number) => `${Math.round(v)} s`;
  const lagGroups = [...new Set(report.lag.flatMap((s) => Object.keys(s.lag)))].filter((g) => !g.startsWith('bench-'));
  const within = (t: number) => t >= t0 && t <= tEnd;
  const cpuGroups = [...new Set(report.cpu.flatMap((s) => Object.keys(s.cores)))]
    .map((g) => [g, Math.max(...report.cpu.map((s) => s.cores[g] ?? 0))] as const)
    .filter(([, m]) => m >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 9)
    .map(([g]) => g);
  const body = [
    panel({
      top: 0,
      title: 'Claims per second (grey: measured phases)',
      x,
      xLabel: sLabel,
      bands,
      yLabel: (v) => String(Math.round(v)),
      series: [
        { name: 'offered', points: series.map((s) => [rel(s.t), s.offered]), dashed: true },
        { name: 'accepted (202)', points: series.map((s) => [rel(s.t), s.accepted]) },
        { name: 'finished', points: series.map((s) => [rel(s.t), s.finished]) },
      ],
    }),
    panel({
      top: PANEL_H,
      title: 'accepted → finished, by second of acceptance (log scale)',
      x,
      xLabel: sLabel,
      bands,
      log: true,
      yLabel: formatMs,
      hline: { y: 1000, label: '1 s' },
      series: [
        { name: 'p50', points: series.map((s) => [rel(s.t), s.accepted ? s.p50 : null]) },
        { name: 'p99', points: series.map((s) => [rel(s.t), s.accepted ? s.p99 : null]) },
      ],
    }),
    panel({
      top: 2 * PANEL_H,
      title: 'Consumer lag per group (messages, all topics)',
      x,
      xLabel: sLabel,
      bands,
      yLabel: (v) => String(Math.round(v)),
      series: lagGroups.map((g) => ({
        name: shortGroup(g),
        points: report.lag
          .filter((s) => within(s.t))
          .map((s): [number, number] => [rel(s.t), Object.values(s.lag[g] ?? {}).reduce((a, b) => a + b, 0)]),
      })),
    }),
    panel({
      top: 3 * PANEL_H,
      title: 'CPU per process group (cores)',
      x,
      xLabel: sLabel,
      bands,
      yLabel: (v) => v.toFixed(2),
      series: cpuGroups.map((g) => ({
        name: g,
        points: report.cpu.filter((s) => within(s.t)).map((s): [number, number] => [rel(s.t), s.cores[g] ?? 0]),
      })),
    }),
  ].join('\n');
  return svg(4 * PANEL_H, body, `claimchain end-to-end bench ${report.startedAt}`);
}

/** Achieved rate and accepted→paid latency per offered rate, with the knee. */
export function sweepSvg(report: BenchReport): string {
  const steps = report.phases;
  const rates = steps.map((s) => s.offeredRate);
  const x: [number, number] = [Math.log10(Math.min(...rates)), Math.log10(Math.max(...rates) * 1.0001)];
  const knee = report.sweep?.kneeRate;
  const body = [
    panel({
      top: 0,
      title: 'Achieved vs offered claims/s',
      x,
      xTicks: rates.map((r) => Math.log10(r)),
      xLabel: (v) => `${Math.round(10 ** v)}/s`,
      yLabel: (v) => String(Math.round(v)),
      series: [
        { name: 'offered', points: steps.map((s) => [Math.log10(s.offeredRate), s.offeredRate]), dashed: true },
        { name: 'achieved', points: steps.map((s) => [Math.log10(s.offeredRate), s.achievedRate]) },
      ],
      ...(knee ? { marker: { x: Math.log10(knee), label: `knee ${knee}/s` } } : {}),
    }),
    panel({
      top: PANEL_H,
      title: 'accepted → paid (log scale; ∞ at the top: not all paid by the end of the drain)',
      x,
      xTicks: rates.map((r) => Math.log10(r)),
      xLabel: (v) => `${Math.round(10 ** v)}/s`,
      log: true,
      yLabel: formatMs,
      hline: { y: 1000, label: '1 s' },
      series: [
        { name: 'p50', points: steps.map((s) => [Math.log10(s.offeredRate), s.submitToPaid.p50]) },
        { name: 'p99', points: steps.map((s) => [Math.log10(s.offeredRate), s.submitToPaid.p99]) },
      ],
      ...(knee ? { marker: { x: Math.log10(knee), label: `knee ${knee}/s` } } : {}),
    }),
  ].join('\n');
  return svg(2 * PANEL_H, body, `claimchain end-to-end sweep ${report.startedAt}`);
}
