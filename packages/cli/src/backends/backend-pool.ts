import { userInfo } from 'node:os';
import { join } from 'node:path';
import {
  type BackendV1,
  createMlscale,
  jsonLinesAuditSink,
  type MlscaleClient,
  type MlscaleEvent,
} from '@mlscale/core';
import type { ConfiguredBackend, MlscaleConfig } from '../config/load-config.js';
import { locatedSettingsError } from './backend-settings-error.js';
import { resolveBackend } from './resolve-backend.js';

/** Builds a backend from its config entry; tests swap in their own. */
export type BackendResolver = (backend: ConfiguredBackend, directory: string) => Promise<BackendV1>;

/** One client per backend named in the file, created on first use, all closed together. */
export interface BackendPool {
  client(backendName: string): Promise<MlscaleClient>;
  /** The provider of a backend entry (`local`, `aws`, ...), without building it. */
  provider(backendName: string): string | undefined;
  close(): Promise<void>;
}

export interface BackendPoolOptions {
  config: MlscaleConfig;
  resolver?: BackendResolver;
  onEvent?: (event: MlscaleEvent) => void;
  signal?: AbortSignal;
  /** `MLSCALE_ACTOR` or the OS user, for the audit log. */
  actor?: string;
  /** Polling bounds for waits (tests make them short). */
  polling?: { minDelayMs?: number; maxDelayMs?: number };
}

/** Clients over the file's backends, auditing every mutating call to `.mlscale/audit.jsonl`. */
export function createBackendPool(options: BackendPoolOptions): BackendPool {
  const { config } = options;
  const resolver = options.resolver ?? resolveBackend;
  const audit = jsonLinesAuditSink(join(config.directory, '.mlscale', 'audit.jsonl'));
  const clients = new Map<string, Promise<MlscaleClient>>();
  return {
    client(backendName) {
      let client = clients.get(backendName);
      if (!client) {
        const entry = config.backends.get(backendName);
        if (!entry) return Promise.reject(new Error(`No backend named '${backendName}' in ${config.path}.`));
        client = resolver(entry, config.directory).then(
          (backend) =>
            createMlscale({
              backend,
              audit,
              actor: options.actor ?? safeUserName(),
              ...(options.onEvent ? { onEvent: options.onEvent } : {}),
              // Local and test backends settle in seconds; clouds keep core's gentler default.
              ...(options.polling
                ? { polling: options.polling }
                : ['local', 'file', 'memory'].includes(entry.provider)
                  ? { polling: { minDelayMs: 100, maxDelayMs: 1000 } }
                  : {}),
            }),
          (error: unknown) => {
            throw locatedSettingsError(error, config, entry);
          },
        );
        // A failed build is not cached: the next call tries again and reports its own error.
        client.catch(() => clients.delete(backendName));
        clients.set(backendName, client);
      }
      return client;
    },
    provider(backendName) {
      return config.backends.get(backendName)?.provider;
    },
    async close() {
      const settled = await Promise.allSettled(clients.values());
      await Promise.allSettled(
        settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value.close()] : [])),
      );
      clients.clear();
    },
  };
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
