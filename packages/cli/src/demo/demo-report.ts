/** One second of the demo's load, as the report charts it. */
export interface TimelinePoint {
  /** Seconds since the load started. */
  second: number;
  requestsPerSecond: number;
  errors: number;
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  replicas: number;
}

/** Something that happened at a moment (a phase starting, a scale event). */
export interface TimelineEvent {
  second: number;
  kind: 'phase' | 'scale' | 'training';
  label: string;
}

export interface DemoSummary {
  requests: number;
  errors: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  peakReplicas: number;
  finalReplicas: number;
  device: string;
  deviceReason?: string;
  modelAccuracy: number;
  heldOutAccuracy: number;
  trainingEpochs: number;
  spotInterruptions: number;
  durationSeconds: number;
}

export interface DemoReport {
  generatedAt: string;
  machine: { platform: string; cpus: number; node: string };
  summary: DemoSummary;
  phases: { name: string; concurrency: number; durationSeconds: number }[];
  timeline: TimelinePoint[];
  events: TimelineEvent[];
}

const palette = {
  load: '#2563eb',
  p50: '#059669',
  p99: '#dc2626',
  replicas: '#7c3aed',
  grid: '#e5e7eb',
  axis: '#6b7280',
  phase: '#f3f4f6',
};

interface Chart {
  title: string;
  unit: string;
  series: { label: string; color: string; values: (number | null)[]; step?: boolean }[];
  integerAxis?: boolean;
}

/** A self-contained HTML page: the summary, then load, latency and replicas over time as inline SVG. */
export function renderDemoReportHtml(report: DemoReport): string {
  const seconds = report.timeline.map((point) => point.second);
  const charts: Chart[] = [
    {
      title: 'Load',
      unit: 'requests/s',
      series: [
        {
          label: 'requests/s',
          color: palette.load,
          values: report.timeline.map((point) => point.requestsPerSecond),
        },
      ],
    },
    {
      title: 'Latency',
      unit: 'ms',
      series: [
        { label: 'p50', color: palette.p50, values: report.timeline.map((point) => point.latencyP50Ms) },
        { label: 'p99', color: palette.p99, values: report.timeline.map((point) => point.latencyP99Ms) },
      ],
    },
    {
      title: 'Replicas',
      unit: 'replicas',
      integerAxis: true,
      series: [
        {
          label: 'replicas',
          color: palette.replicas,
          step: true,
          values: report.timeline.map((point) => point.replicas),
        },
      ],
    },
  ];
  const phaseBands = phaseRanges(report);
  const summary = report.summary;
  const rows: [string, string][] = [
    ['Requests', summary.requests.toLocaleString('en-US')],
    ['Errors', summary.errors.toLocaleString('en-US')],
    ['Latency p50 / p99', `${summary.latencyP50Ms.toFixed(1)} ms / ${summary.latencyP99Ms.toFixed(1)} ms`],
    ['Replicas peak / final', `${summary.peakReplicas} / ${summary.finalReplicas}`],
    ['Device', summary.deviceReason ? `${summary.device} (${summary.deviceReason})` : summary.device],
    [
      'Model accuracy (training / held-out)',
      `${(summary.modelAccuracy * 100).toFixed(1)}% / ${(summary.heldOutAccuracy * 100).toFixed(1)}%`,
    ],
    [
      'Training',
      `${summary.trainingEpochs} epochs, ${summary.spotInterruptions} spot interruption${summary.spotInterruptions === 1 ? '' : 's'}${summary.spotInterruptions > 0 ? ', resumed from its checkpoint' : ''}`,
    ],
    ['Demo duration', `${summary.durationSeconds.toFixed(1)} s`],
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>mlscale demo report</title>
<style>
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #111827; margin: 32px auto; max-width: 980px; padding: 0 16px; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  .meta { color: ${palette.axis}; margin-bottom: 20px; }
  table { border-collapse: collapse; margin-bottom: 24px; }
  td { padding: 4px 16px 4px 0; border-bottom: 1px solid ${palette.grid}; }
  td:first-child { color: ${palette.axis}; }
  h2 { font-size: 15px; margin: 20px 0 4px; }
  .legend span { display: inline-block; margin-right: 14px; font-size: 12px; color: #374151; }
  .legend i { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 5px; }
  svg text { font: 11px system-ui, sans-serif; fill: ${palette.axis}; }
</style>
</head>
<body>
<h1>mlscale demo</h1>
<div class="meta">Generated ${escapeHtml(report.generatedAt)} on ${escapeHtml(report.machine.platform)}, ${report.machine.cpus} CPU cores, Node ${escapeHtml(report.machine.node)}.
Load phases: ${report.phases.map((phase) => `${escapeHtml(phase.name)} (${clients(phase.concurrency)}, ${phase.durationSeconds} s)`).join(' → ')}.</div>
<table>${rows.map(([label, value]) => `<tr><td>${escapeHtml(label)}</td><td>${escapeHtml(value)}</td></tr>`).join('')}</table>
${charts.map((chart) => renderChart(chart, seconds, phaseBands, report.events)).join('\n')}
</body>
</html>
`;
}

function phaseRanges(report: DemoReport): { name: string; from: number; to: number }[] {
  const ranges: { name: string; from: number; to: number }[] = [];
  let from = 0;
  for (const phase of report.phases) {
    ranges.push({ name: phase.name, from, to: from + phase.durationSeconds });
    from += phase.durationSeconds;
  }
  return ranges;
}

function renderChart(
  chart: Chart,
  seconds: number[],
  phases: { name: string; from: number; to: number }[],
  events: TimelineEvent[],
): string {
  const width = 940;
  const height = 190;
  const margin = { left: 56, right: 16, top: 14, bottom: 28 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const maxSecond = Math.max(1, ...seconds, ...phases.map((phase) => phase.to));
  const allValues = chart.series.flatMap((series) =>
    series.values.filter((value): value is number => value !== null && Number.isFinite(value)),
  );
  const largest = Math.max(chart.integerAxis ? 4 : 1, ...allValues);
  // Whole-number axes (replicas) get one grid line per unit, so a step sits exactly on its line.
  const maxValue = chart.integerAxis ? Math.ceil(largest) + 1 : niceCeiling(largest);
  const x = (second: number) => margin.left + (second / maxSecond) * plotWidth;
  const y = (value: number) => margin.top + plotHeight - (value / maxValue) * plotHeight;

  const leadingDigit = maxValue / 10 ** Math.floor(Math.log10(maxValue));
  // 250 and 5,000 split into fifths (50, 1,000); 100 and 200 into quarters.
  const ticks =
    chart.integerAxis && maxValue <= 10 ? maxValue : leadingDigit === 2.5 || leadingDigit === 5 ? 5 : 4;
  const grid = Array.from({ length: ticks + 1 }, (_, index) => {
    const value = (maxValue / ticks) * index;
    const label =
      chart.integerAxis || maxValue >= 20 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
    return `<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(value)}" y2="${y(value)}" stroke="${palette.grid}"/><text x="${margin.left - 6}" y="${y(value) + 4}" text-anchor="end">${label}</text>`;
  }).join('');
  const secondStep = maxSecond > 40 ? 10 : 5;
  const xTicks = Array.from(
    { length: Math.floor(maxSecond / secondStep) + 1 },
    (_, index) => index * secondStep,
  )
    .map((second) => `<text x="${x(second)}" y="${height - 8}" text-anchor="middle">${second} s</text>`)
    .join('');
  const bands = phases
    .map(
      (phase, index) =>
        `<rect x="${x(phase.from)}" y="${margin.top}" width="${x(phase.to) - x(phase.from)}" height="${plotHeight}" fill="${index % 2 ? '#ffffff' : palette.phase}"/>` +
        `<text x="${(x(phase.from) + x(phase.to)) / 2}" y="${margin.top + 11}" text-anchor="middle">${escapeHtml(phase.name)}</text>`,
    )
    .join('');
  const scaleMarks = events
    .filter((event) => event.kind === 'scale')
    .map(
      (event) =>
        `<line x1="${x(event.second)}" x2="${x(event.second)}" y1="${margin.top}" y2="${margin.top + plotHeight}" stroke="${palette.replicas}" stroke-dasharray="3 3" stroke-opacity="0.5"><title>${escapeHtml(event.label)}</title></line>`,
    )
    .join('');
  const lines = chart.series
    .map((series) => {
      const points: string[] = [];
      let previous: [number, number] | undefined;
      series.values.forEach((value, index) => {
        if (value === null || !Number.isFinite(value)) {
          previous = undefined;
          return;
        }
        const point: [number, number] = [x(seconds[index]!), y(value)];
        if (series.step && previous) points.push(`L${point[0].toFixed(1)},${previous[1].toFixed(1)}`);
        points.push(`${previous ? 'L' : 'M'}${point[0].toFixed(1)},${point[1].toFixed(1)}`);
        previous = point;
      });
      return `<path d="${points.join(' ')}" fill="none" stroke="${series.color}" stroke-width="2" stroke-linejoin="round"/>`;
    })
    .join('');
  const legend = chart.series
    .map((series) => `<span><i style="background:${series.color}"></i>${escapeHtml(series.label)}</span>`)
    .join('');
  return `<h2>${escapeHtml(chart.title)} <small style="font-weight:normal;color:${palette.axis}">(${escapeHtml(chart.unit)})</small></h2>
<div class="legend">${legend}</div>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(chart.title)} over time">${bands}${grid}${scaleMarks}${lines}${xTicks}<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotHeight}" stroke="${palette.axis}"/></svg>`;
}

/** The smallest of 1, 2, 2.5, 5 × 10^k at or above `value`. */
function niceCeiling(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

/** "1 client", "32 clients". */
export function clients(count: number): string {
  return `${count} client${count === 1 ? '' : 's'}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
