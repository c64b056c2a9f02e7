import { ArmError, badArgument, resourceNotFound } from './arm-error.js';
import type { EmulatorContext, EmulatorReply, EmulatorRequest } from './emulator-context.js';
import {
  durationMs,
  type MetricSubject,
  metricPoints,
  metricUnit,
  parseDimensionFilter,
} from './metric-series.js';
import { assertTags } from './resource-rules.js';
import { type ArmResource, key, systemData } from './state.js';

const metricsPattern = /^\/(.+)\/providers\/Microsoft\.Insights\/metrics$/i;
const autoscalePattern =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Insights\/autoscalesettings(?:\/([^/]+))?$/i;

/** Azure Monitor: metrics of endpoints and deployments, and autoscale settings. */
export function handleMonitor(context: EmulatorContext, request: EmulatorRequest): EmulatorReply | undefined {
  const autoscale = autoscalePattern.exec(request.path);
  if (autoscale) {
    const [, subscription = '', resourceGroup = '', name] = autoscale;
    return handleAutoscale(context, request, subscription, resourceGroup, name);
  }
  const metrics = metricsPattern.exec(request.path);
  if (metrics && request.method === 'GET') return listMetrics(context, request, metrics[1] ?? '');
  return undefined;
}

/** The endpoint or deployment with this ARM id. */
export function findSubject(context: EmulatorContext, resourceId: string): MetricSubject | undefined {
  const wanted = key(`/${resourceId.replace(/^\/+/, '')}`);
  for (const workspace of context.state.workspaces.values()) {
    for (const endpoint of workspace.endpoints.values()) {
      if (key(endpoint.resource.id) === wanted) return { kind: 'endpoint', endpoint };
      for (const deployment of endpoint.deployments.values()) {
        if (key(deployment.resource.id) === wanted) return { kind: 'deployment', endpoint, deployment };
      }
    }
  }
  return undefined;
}

function listMetrics(context: EmulatorContext, request: EmulatorRequest, resourceUri: string): EmulatorReply {
  const subject = findSubject(context, resourceUri);
  if (!subject) throw resourceNotFound('resource', `/${resourceUri.replace(/^\/+/, '')}`);
  const names = (request.query.get('metricnames') ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0) throw badArgument('metricnames: at least one metric name is required.');
  const intervalText = request.query.get('interval') ?? 'PT1M';
  const intervalMs = durationMs(intervalText);
  if (intervalMs < 60_000) throw badArgument(`interval: '${intervalText}' is below the one-minute grain.`);
  const now = context.now();
  const [fromText, toText] = (request.query.get('timespan') ?? '').split('/');
  const endMs = toText ? Date.parse(toText) : now;
  const startMs = fromText ? Date.parse(fromText) : endMs - 60 * 60_000;
  if (Number.isNaN(startMs) || Number.isNaN(endMs) || startMs >= endMs) {
    throw badArgument('timespan: expected "start/end" ISO 8601 times, start before end.');
  }
  const alignedStart = Math.floor(startMs / intervalMs) * intervalMs;
  const dimensions = parseDimensionFilter(request.query.get('$filter'));
  const resourceId =
    subject.kind === 'endpoint' ? subject.endpoint.resource.id : subject.deployment.resource.id;
  return {
    status: 200,
    body: {
      cost: 0,
      timespan: `${new Date(alignedStart).toISOString()}/${new Date(endMs).toISOString()}`,
      interval: intervalText,
      namespace:
        subject.kind === 'endpoint'
          ? 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints'
          : 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments',
      resourceregion: context.location,
      value: names.map((name) => ({
        id: `${resourceId}/providers/Microsoft.Insights/metrics/${name}`,
        type: 'Microsoft.Insights/metrics',
        name: { value: name, localizedValue: name },
        unit: metricUnit(name),
        errorCode: 'Success',
        timeseries: [
          {
            metadatavalues: Object.entries(dimensions).map(([dimension, value]) => ({
              name: { value: dimension, localizedValue: dimension },
              value,
            })),
            data: metricPoints(context, name, subject, alignedStart, endMs, intervalMs, dimensions),
          },
        ],
      })),
    },
  };
}

function autoscaleKey(subscription: string, resourceGroup: string, name: string): string {
  return key(`${subscription}/${resourceGroup}/${name}`);
}

function handleAutoscale(
  context: EmulatorContext,
  request: EmulatorRequest,
  subscription: string,
  resourceGroup: string,
  name: string | undefined,
): EmulatorReply | undefined {
  const settings = context.state.autoscaleSettings;
  if (name === undefined) {
    if (request.method !== 'GET') return undefined;
    const prefix = key(`${subscription}/${resourceGroup}/`);
    const value = [...settings.entries()]
      .filter(([item]) => item.startsWith(prefix))
      .map(([, setting]) => setting);
    return { status: 200, body: { value } };
  }
  const settingKey = autoscaleKey(subscription, resourceGroup, name);
  if (request.method === 'GET') {
    const setting = settings.get(settingKey);
    if (!setting) throw resourceNotFound('autoscale setting', name);
    return { status: 200, body: setting };
  }
  if (request.method === 'DELETE') return settings.delete(settingKey) ? { status: 200 } : { status: 204 };
  if (request.method !== 'PUT') return undefined;
  const body = request.body as
    | { location?: unknown; tags?: unknown; properties?: Record<string, unknown> }
    | undefined;
  if (!body || typeof body.location !== 'string') throw badArgument('location: required.');
  const properties = body.properties;
  if (!properties || !Array.isArray(properties.profiles) || properties.profiles.length === 0) {
    throw badArgument('properties.profiles: at least one profile is required.');
  }
  if (properties.profiles.length > 20) throw badArgument('properties.profiles: at most 20 profiles.');
  for (const [index, profile] of (properties.profiles as Record<string, unknown>[]).entries()) {
    validateProfile(profile, index);
  }
  const target = String(properties.targetResourceUri ?? '');
  if (!findSubject(context, target)) {
    throw new ArmError(400, 'TargetResourceNotFound', `The target resource id '${target}' was not found.`);
  }
  const tags = (body.tags as Record<string, string> | undefined) ?? {};
  assertTags(tags);
  const existing = settings.get(settingKey);
  const timestamp = new Date(context.now()).toISOString();
  const setting: ArmResource = {
    id: `/subscriptions/${subscription}/resourceGroups/${resourceGroup}/providers/microsoft.insights/autoscalesettings/${name}`,
    name,
    type: 'Microsoft.Insights/autoscaleSettings',
    location: body.location,
    tags,
    // ARM's default for `enabled` is false: a setting PUT without it exists and does nothing.
    properties: {
      ...properties,
      name,
      enabled: properties.enabled === true,
      notifications: properties.notifications ?? [],
    },
    systemData: systemData(timestamp, existing?.systemData),
  };
  settings.set(settingKey, setting);
  return { status: existing ? 200 : 201, body: setting };
}

function validateProfile(profile: Record<string, unknown>, index: number): void {
  const where = `properties.profiles[${index}]`;
  const capacity = profile.capacity as Record<string, unknown> | undefined;
  const numbers = ['minimum', 'maximum', 'default'].map((field) => Number(capacity?.[field]));
  if (!capacity || numbers.some((value) => !Number.isInteger(value) || value < 0)) {
    throw badArgument(`${where}.capacity: expected whole-number strings minimum, maximum and default.`);
  }
  const [minimum = 0, maximum = 0, fallback = 0] = numbers;
  if (minimum > maximum || fallback < minimum || fallback > maximum) {
    throw badArgument(`${where}.capacity: expected minimum <= default <= maximum.`);
  }
  const rules = profile.rules;
  if (!Array.isArray(rules) || rules.length > 10)
    throw badArgument(`${where}.rules: expected at most 10 rules.`);
  for (const [ruleIndex, rule] of (rules as Record<string, Record<string, unknown>>[]).entries()) {
    const trigger = rule.metricTrigger;
    const action = rule.scaleAction;
    if (!trigger || typeof trigger.metricName !== 'string' || typeof trigger.threshold !== 'number') {
      throw badArgument(`${where}.rules[${ruleIndex}].metricTrigger: metricName and threshold are required.`);
    }
    if (
      !['GreaterThan', 'GreaterThanOrEqual', 'LessThan', 'LessThanOrEqual', 'Equals', 'NotEquals'].includes(
        String(trigger.operator),
      )
    ) {
      throw badArgument(`${where}.rules[${ruleIndex}].metricTrigger.operator: unknown operator.`);
    }
    durationMs(String(trigger.timeGrain));
    durationMs(String(trigger.timeWindow));
    if (!action || (action.direction !== 'Increase' && action.direction !== 'Decrease')) {
      throw badArgument(`${where}.rules[${ruleIndex}].scaleAction.direction: expected Increase or Decrease.`);
    }
    durationMs(String(action.cooldown));
  }
}
