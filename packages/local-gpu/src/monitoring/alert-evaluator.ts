import type { AlertRule, AlertStatus } from '@mlscale/core';
import { type AlertEvent, type AlertState, advanceAlertState, initialAlertState } from './alert-state.js';
import { alertWebhookPayload, type WebhookSender } from './alert-webhook.js';
import { epochSecond } from './clock.js';
import type { ServerLogger } from './deployment-logs.js';
import type { MetricStore } from './metric-store.js';
import type { JobSource } from './monitoring-sources.js';

/** What the evaluator reads and where its events go. */
export interface AlertEvaluatorContext {
  store: MetricStore;
  jobSource?: JobSource;
  now: () => number;
  webhooks: WebhookSender;
  /** The server log of a deployment, where alert events are written too. */
  logFor: (deployment: string) => ServerLogger | undefined;
  /** Called for every event, before the listeners. */
  onAlert?: (event: AlertEvent) => void;
  reportError: (message: string, error: unknown) => void;
}

/** Alert rules and their states, evaluated against the store (or the job source) once a second. */
export interface AlertEvaluator {
  /** Adds or replaces a rule; an unchanged rule keeps its state. */
  put(rule: AlertRule): AlertStatus;
  list(): AlertStatus[];
  delete(name: string): boolean;
  /** Evaluates every rule over its last `periodSeconds` ending at `nowMs`, emitting events. */
  evaluate(nowMs: number): Promise<void>;
  onAlert(listener: (event: AlertEvent) => void): () => void;
  onFire(listener: (rule: AlertRule, event: AlertEvent) => void): () => void;
}

export function createAlertEvaluator(context: AlertEvaluatorContext): AlertEvaluator {
  const alerts = new Map<string, AlertState>();
  const alertListeners = new Set<(event: AlertEvent) => void>();
  const fireListeners = new Set<(rule: AlertRule, event: AlertEvent) => void>();

  async function ruleValue(rule: AlertRule, nowMs: number): Promise<number | null> {
    const second = epochSecond(nowMs);
    const fromSecond = second - rule.periodSeconds + 1;
    if ('deployment' in rule.target) {
      return context.store.aggregate(
        `deployment/${rule.target.deployment}`,
        rule.metric,
        rule.stat,
        fromSecond,
        second + 1,
      );
    }
    if (!context.jobSource) return null;
    const result = await context.jobSource.metrics(
      {
        target: rule.target,
        names: [rule.metric],
        from: new Date(fromSecond * 1000),
        to: new Date((second + 1) * 1000),
        periodSeconds: rule.periodSeconds,
        stat: rule.stat,
      },
      {},
    );
    const values = result.series[0]?.values ?? [];
    for (let index = values.length - 1; index >= 0; index--) {
      if (values[index] !== null) return values[index]!;
    }
    return null;
  }

  function call(run: () => void) {
    try {
      run();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      context.reportError(`An alert listener threw: ${reason}`, error);
    }
  }

  function emit(event: AlertEvent) {
    const { rule } = event;
    if ('deployment' in rule.target) {
      context
        .logFor(rule.target.deployment)
        ?.log(
          event.type === 'firing' ? 'warn' : 'info',
          `Alert "${rule.name}" ${event.type}: ${rule.stat}(${rule.metric}) = ${event.value ?? 'no data'} (${rule.comparator} ${rule.threshold} for ${rule.forSeconds} s)`,
          { alert: rule.name, event: event.type },
        );
    }
    if (context.onAlert) call(() => context.onAlert!(event));
    for (const listener of alertListeners) call(() => listener(event));
    if (event.type === 'firing') for (const listener of fireListeners) call(() => listener(rule, event));
    if (rule.webhookUrl) context.webhooks.send(rule.webhookUrl, alertWebhookPayload(event));
  }

  return {
    put(rule) {
      const existing = alerts.get(rule.name);
      if (existing && JSON.stringify(existing.status.rule) === JSON.stringify(rule)) {
        return { ...existing.status };
      }
      const state = initialAlertState(rule, context.now());
      alerts.set(rule.name, state);
      return { ...state.status };
    },
    list() {
      return [...alerts.values()]
        .map((state) => ({ ...state.status }))
        .sort((left, right) => left.rule.name.localeCompare(right.rule.name));
    },
    delete: (name) => alerts.delete(name),
    async evaluate(nowMs) {
      for (const state of [...alerts.values()]) {
        let value: number | null;
        try {
          value = await ruleValue(state.status.rule, nowMs);
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          context.reportError(`Evaluating alert "${state.status.rule.name}" failed: ${reason}`, error);
          continue;
        }
        // Deleted or replaced while its value was read: leave the new state alone.
        if (alerts.get(state.status.rule.name) !== state) continue;
        const event = advanceAlertState(state, value, nowMs);
        if (event) emit(event);
      }
    },
    onAlert(listener) {
      alertListeners.add(listener);
      return () => alertListeners.delete(listener);
    },
    onFire(listener) {
      fireListeners.add(listener);
      return () => fireListeners.delete(listener);
    },
  };
}
