import { formatCost } from '../cost/estimate-cost.js';
import type { Plan, PlanAction } from '../plan/compute-plan.js';
import type { Palette } from './terminal.js';

const symbols: Record<PlanAction, string> = {
  create: '+',
  update: '~',
  rollout: '»',
  replace: '-/+',
  destroy: '-',
  unchanged: ' ',
  conflict: '!',
};

const labels: Record<PlanAction, string> = {
  create: 'create',
  update: 'update in place',
  rollout: 'roll out',
  replace: 'replace',
  destroy: 'destroy',
  unchanged: 'unchanged',
  conflict: 'conflict',
};

/** The plan as a reader scans it: one line per resource, changed fields old → new under it, then totals. */
export function renderPlan(plan: Plan, color: Palette): string {
  const paint: Record<PlanAction, (text: string) => string> = {
    create: color.green,
    update: color.yellow,
    rollout: color.cyan,
    replace: color.red,
    destroy: color.red,
    unchanged: color.dim,
    conflict: color.red,
  };
  const lines: string[] = [];
  const nameWidth = Math.max(0, ...plan.changes.map((row) => `${row.kind}/${row.name}`.length));
  for (const row of plan.changes) {
    const id = `${row.kind}/${row.name}`.padEnd(nameWidth);
    const where = `on ${row.backend}${row.provider !== row.backend ? ` (${row.provider})` : ''}`;
    const cost = row.cost && row.action !== 'destroy' ? `  ${formatCost(row.cost, row.kind)}` : '';
    lines.push(
      paint[row.action](
        `${symbols[row.action].padStart(3)} ${id}  ${labels[row.action].padEnd(15)} ${where}`,
      ) + cost,
    );
    if (row.reason) lines.push(color.dim(`      ${row.reason}`));
    if (row.action !== 'unchanged') {
      for (const change of row.changes)
        lines.push(`      ${change.path}: ${show(change.before)} → ${show(change.after)}`);
    }
  }
  const { summary } = plan;
  lines.push('');
  lines.push(
    plan.hasChanges
      ? color.bold(
          `Plan: ${summary.create} to create, ${summary.update} to update in place, ${summary.rollout} to roll out, ${summary.replace} to replace, ${summary.destroy} to destroy, ${summary.unchanged} unchanged${plan.converging ? ` (${plan.converging} not yet converged: apply finishes ${plan.converging === 1 ? 'it' : 'them'})` : ''}${summary.conflict ? `, ${summary.conflict} in conflict` : ''}.`,
        )
      : color.bold('No changes: the live state matches the file.'),
  );
  const { hourly, monthly, unpriced, priceTableDate } = plan.cost;
  const money = (value: number) =>
    `$${value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  const range = (minimum: number, maximum: number) =>
    minimum === maximum ? money(minimum) : `${money(minimum)}–${money(maximum)}`;
  lines.push(
    `Running cost after apply: ${range(hourly.minimum, hourly.maximum)}/h, ${range(monthly.minimum, monthly.maximum)}/month (prices of ${priceTableDate}${unpriced.length ? `; not priced: ${unpriced.join(', ')}` : ''}).`,
  );
  return lines.join('\n');
}

function show(value: unknown): string {
  if (value === undefined) return '(none)';
  return JSON.stringify(value);
}
