import type { ClientPool, VertexClients } from './clients.js';
import type { VertexSettings } from './settings.js';

/** What the adapter's operation groups share. */
export interface AdapterContext {
  settings: VertexSettings;
  clients: ClientPool;
}

export function clientsOf(context: AdapterContext): Promise<VertexClients> {
  return context.clients.get();
}

/** A protobuf Timestamp from google-gax (seconds may be a Long, a string or a number) as a Date. */
export function toDate(
  value: { seconds?: unknown; nanos?: number | null } | null | undefined,
): Date | undefined {
  if (!value || value.seconds === undefined || value.seconds === null) return undefined;
  const seconds = Number(typeof value.seconds === 'object' ? String(value.seconds) : value.seconds);
  return new Date(seconds * 1000 + Math.floor((value.nanos ?? 0) / 1_000_000));
}
