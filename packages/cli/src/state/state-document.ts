import { z } from 'zod';

/** The two kinds of resources the file declares. */
export type ResourceKind = 'deployment' | 'trainingJob';

/** A resource mlscale applied and so manages: destroy and plan's "destroy" rows come from here. */
export interface StateResource {
  kind: ResourceKind;
  name: string;
  /** The backend entry's name in the file. */
  backend: string;
  /** Its provider (`local`, `aws`, ...). */
  provider: string;
  /** specHash of the spec as applied. */
  specHash: string;
  /** The spec as applied, secrets redacted. */
  spec: unknown;
  appliedAt: string;
}

/** An operation started and not yet seen finished: a killed apply leaves these behind. */
export interface InFlightOperation {
  kind: ResourceKind;
  name: string;
  backend: string;
  action: string;
  specHash: string;
  startedAt: string;
  /** The process that started it. */
  pid: number;
}

/** `.mlscale/state/<project>[.<env>].json`. */
export interface StateDocument {
  version: 1;
  project: string;
  environment: string | null;
  /** Bumped on every write, like Terraform's serial. */
  serial: number;
  updatedAt: string;
  /** By `kind/name`. */
  resources: Record<string, StateResource>;
  inFlight: InFlightOperation[];
}

/** `deployment/mnist`. */
export function resourceKey(kind: ResourceKind, name: string): string {
  return `${kind}/${name}`;
}

export function emptyState(project: string, environment: string | undefined): StateDocument {
  return {
    version: 1,
    project,
    environment: environment ?? null,
    serial: 0,
    updatedAt: new Date(0).toISOString(),
    resources: {},
    inFlight: [],
  };
}

/** What a state file must hold to be read (a hand-edited or damaged one is named, never guessed at). */
export const stateDocumentSchema = z.object({
  version: z.literal(1),
  project: z.string(),
  environment: z.string().nullable(),
  serial: z.number().int().min(0),
  updatedAt: z.string(),
  resources: z.record(
    z.string(),
    z.object({
      kind: z.enum(['deployment', 'trainingJob']),
      name: z.string(),
      backend: z.string(),
      provider: z.string(),
      specHash: z.string(),
      spec: z.unknown(),
      appliedAt: z.string(),
    }),
  ),
  inFlight: z.array(
    z.object({
      kind: z.enum(['deployment', 'trainingJob']),
      name: z.string(),
      backend: z.string(),
      action: z.string(),
      specHash: z.string(),
      startedAt: z.string(),
      pid: z.number().int(),
    }),
  ),
});
