import { AwsServiceError } from './aws-service-error.js';
import {
  appendLog,
  type EmulatorContext,
  type JsonObject,
  type LogEvent,
  stringField,
} from './emulator-context.js';
import { paginate } from './pagination.js';

type Handler = (context: EmulatorContext, input: JsonObject) => JsonObject;

/** Events per FilterLogEvents page; small, so clients exercise nextToken. */
const filterPageSize = 100;

function groupName(input: JsonObject): string {
  const name = stringField(input, 'logGroupName') ?? stringField(input, 'logGroupIdentifier');
  if (!name) throw new AwsServiceError('InvalidParameterException', 'logGroupName is required.');
  return name;
}

function requireGroup(context: EmulatorContext, name: string) {
  const group = context.logGroups.get(name);
  if (!group)
    throw new AwsServiceError('ResourceNotFoundException', 'The specified log group does not exist.');
  return group;
}

/**
 * CloudWatch Logs filter patterns, the subset text searches use: a quoted phrase matches as is; bare
 * terms must all appear; `?term` terms match when any does; `-term` excludes.
 */
export function matchesFilterPattern(message: string, pattern: string | undefined): boolean {
  if (!pattern || pattern.trim() === '') return true;
  const terms = pattern.match(/[?-]?"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
  const anyOf: string[] = [];
  for (const raw of terms) {
    const prefix = raw[0] === '?' || raw[0] === '-' ? raw[0] : '';
    let term = prefix ? raw.slice(1) : raw;
    if (term.startsWith('"') && term.endsWith('"')) term = term.slice(1, -1).replace(/\\(.)/g, '$1');
    if (prefix === '?') anyOf.push(term);
    else if (prefix === '-') {
      if (message.includes(term)) return false;
    } else if (!message.includes(term)) return false;
  }
  return anyOf.length === 0 || anyOf.some((term) => message.includes(term));
}

export const logsHandlers: Readonly<Record<string, Handler>> = {
  CreateLogGroup(context, input) {
    const name = groupName(input);
    if (context.logGroups.has(name)) {
      throw new AwsServiceError('ResourceAlreadyExistsException', 'The specified log group already exists');
    }
    context.logGroups.set(name, { creationTime: context.now(), streams: new Map(), events: [] });
    return {};
  },

  CreateLogStream(context, input) {
    const group = requireGroup(context, groupName(input));
    const stream = stringField(input, 'logStreamName');
    if (!stream) throw new AwsServiceError('InvalidParameterException', 'logStreamName is required.');
    if (group.streams.has(stream)) {
      throw new AwsServiceError('ResourceAlreadyExistsException', 'The specified log stream already exists');
    }
    group.streams.set(stream, { creationTime: context.now() });
    return {};
  },

  PutLogEvents(context, input) {
    const name = groupName(input);
    const group = requireGroup(context, name);
    const stream = stringField(input, 'logStreamName') ?? '';
    if (!group.streams.has(stream)) {
      throw new AwsServiceError('ResourceNotFoundException', 'The specified log stream does not exist.');
    }
    for (const event of (input.logEvents as JsonObject[]) ?? []) {
      appendLog(context, name, stream, String(event.message ?? ''), Number(event.timestamp ?? context.now()));
    }
    return { nextSequenceToken: String(context.logSequence) };
  },

  DescribeLogGroups(context, input) {
    const prefix = stringField(input, 'logGroupNamePrefix');
    const items = [...context.logGroups.entries()]
      .filter(([name]) => !prefix || name.startsWith(prefix))
      .sort(([left], [right]) => left.localeCompare(right))
      .map(([name, group]) => ({ logGroupName: name, creationTime: group.creationTime, storedBytes: 0 }));
    const { page, nextToken } = paginate(items, input.nextToken, input.limit, 50);
    return { logGroups: page, ...(nextToken ? { nextToken } : {}) };
  },

  DescribeLogStreams(context, input) {
    const group = requireGroup(context, groupName(input));
    const prefix = stringField(input, 'logStreamNamePrefix');
    const items = [...group.streams.entries()]
      .filter(([name]) => !prefix || name.startsWith(prefix))
      .map(([name, stream]) => {
        const events = group.events.filter((event) => event.logStreamName === name);
        return {
          logStreamName: name,
          creationTime: stream.creationTime,
          ...(events.length
            ? { firstEventTimestamp: events[0]!.timestamp, lastEventTimestamp: events.at(-1)!.timestamp }
            : {}),
        };
      });
    const { page, nextToken } = paginate(items, input.nextToken, input.limit, 50);
    return { logStreams: page, ...(nextToken ? { nextToken } : {}) };
  },

  FilterLogEvents(context, input) {
    const group = requireGroup(context, groupName(input));
    const streams = Array.isArray(input.logStreamNames)
      ? new Set(input.logStreamNames as string[])
      : undefined;
    const prefix = stringField(input, 'logStreamNamePrefix');
    if (streams && prefix) {
      throw new AwsServiceError(
        'InvalidParameterException',
        'logStreamNames and logStreamNamePrefix are mutually exclusive.',
      );
    }
    const startTime = typeof input.startTime === 'number' ? input.startTime : Number.NEGATIVE_INFINITY;
    const endTime = typeof input.endTime === 'number' ? input.endTime : Number.POSITIVE_INFINITY;
    const pattern = stringField(input, 'filterPattern');
    // The token names the last event returned, so events that arrive later are still found.
    let after: { timestamp: number; sequence: number } | undefined;
    const token = stringField(input, 'nextToken');
    if (token) {
      const [timestamp, sequence] = Buffer.from(token, 'base64url').toString('utf8').split(':').map(Number);
      if (!Number.isFinite(timestamp) || !Number.isFinite(sequence)) {
        throw new AwsServiceError('InvalidParameterException', 'The specified nextToken is invalid.');
      }
      after = { timestamp: timestamp!, sequence: sequence! };
    }
    const limit = Math.min(
      filterPageSize,
      typeof input.limit === 'number' && input.limit > 0 ? input.limit : filterPageSize,
    );
    const ordered = [...group.events].sort(
      (left, right) => left.timestamp - right.timestamp || left.sequence - right.sequence,
    );
    const matching = ordered.filter(
      (event) =>
        event.timestamp >= startTime &&
        event.timestamp <= endTime &&
        (!streams || streams.has(event.logStreamName)) &&
        (!prefix || event.logStreamName.startsWith(prefix)) &&
        (!after ||
          event.timestamp > after.timestamp ||
          (event.timestamp === after.timestamp && event.sequence > after.sequence)) &&
        matchesFilterPattern(event.message, pattern),
    );
    const page: LogEvent[] = matching.slice(0, limit);
    const last = page.at(-1);
    const more = matching.length > page.length;
    return {
      events: page.map((event) => ({
        logStreamName: event.logStreamName,
        timestamp: event.timestamp,
        message: event.message,
        ingestionTime: event.ingestionTime,
        eventId: event.eventId,
      })),
      searchedLogStreams: [],
      ...(more && last
        ? { nextToken: Buffer.from(`${last.timestamp}:${last.sequence}`).toString('base64url') }
        : {}),
    };
  },
};
