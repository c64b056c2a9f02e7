import { basename, dirname, isAbsolute, resolve } from 'node:path';
import {
  type DeploymentSpec,
  deploymentSpecSchema,
  MlscaleError,
  type SpecIssue,
  specIssues,
  type TrainingJobSpec,
  trainingJobSpecSchema,
} from '@mlscale/core';
import type { z } from 'zod';
import {
  type BackendProvider,
  backendProviders,
  configFileSchema,
  type PricingOverride,
} from './config-schema.js';
import { formatPath, interpolateEnvironment } from './interpolate-environment.js';
import { mergeOverride } from './merge-override.js';
import { modelUris, uriScheme } from './model-uris.js';
import { findConfigFile, type RawConfigFile, readConfigFile } from './read-config-file.js';
import type { SourceLocator } from './source-locator.js';

/** A backend the file names, with the settings its factory gets. */
export interface ConfiguredBackend {
  name: string;
  provider: BackendProvider;
  settings: Record<string, unknown>;
}

/** A deployment or training job from the file, validated, with the environment applied. */
export type ConfiguredResource =
  | { kind: 'deployment'; name: string; backend: string; spec: DeploymentSpec; dependsOn: string[] }
  | { kind: 'trainingJob'; name: string; backend: string; spec: TrainingJobSpec; dependsOn: string[] };

/** A loaded, validated config. */
export interface MlscaleConfig {
  /** Absolute path of the file. */
  path: string;
  /** Its folder: relative paths and `.mlscale/` are resolved against it. */
  directory: string;
  project: string;
  /** The `--env` chosen, if any. */
  environment: string | undefined;
  backends: Map<string, ConfiguredBackend>;
  /** Training jobs first, then deployments, each in file order. */
  resources: ConfiguredResource[];
  pricing: PricingOverride | undefined;
  /** Where a field is written in the file (YAML and JSON; a TypeScript config has no positions). */
  locate: SourceLocator;
}

export interface LoadConfigOptions {
  /** Where to look for the file and resolve `file` against. */
  directory: string;
  /** `--file`. */
  file?: string;
  /** `--env`. */
  environment?: string;
  /** Variables for `${env:NAME}`. */
  variables: Readonly<Record<string, string | undefined>>;
}

type RawPath = (string | number)[];
interface LocatedIssue extends SpecIssue {
  rawPath: RawPath;
}

/** Finds, reads, interpolates, merges the environment into and validates the config file. */
export async function loadConfig(options: LoadConfigOptions): Promise<MlscaleConfig> {
  const path = findConfigFile(options.directory, options.file);
  const raw = await readConfigFile(path);
  return resolveConfig(raw, options);
}

/** The same, from an already-read file (tests, and YAML piped on stdin). */
export function resolveConfig(raw: RawConfigFile, options: LoadConfigOptions): MlscaleConfig {
  const directory = dirname(raw.path);
  const interpolated = interpolateEnvironment(raw.value, options.variables);
  if (interpolated.issues.length > 0) throw configError(raw, interpolated.issues);

  const outline = configFileSchema.safeParse(interpolated.value);
  if (!outline.success) throw configError(raw, zodIssues(outline.error, []));
  const file = outline.data;

  const environmentName = options.environment;
  const environment = environmentName === undefined ? undefined : file.environments[environmentName];
  if (environmentName !== undefined && !environment) {
    const known = Object.keys(file.environments);
    throw new MlscaleError({
      code: 'InvalidSpec',
      message: `${basename(raw.path)}: no environment '${environmentName}' (${known.length ? `expected one of ${known.join(', ')}` : 'the file defines no environments'}).`,
      issues: [{ path: 'environments', message: `expected '${environmentName}' to be defined` }],
    });
  }
  const environmentPath: RawPath = ['environments', environmentName ?? ''];

  const issues: LocatedIssue[] = [];
  const backends = new Map<string, ConfiguredBackend>();
  const backendEntries = mergeOverride(file.backends, environment?.backends ?? {}) as Record<
    string,
    Record<string, unknown>
  >;
  for (const [name, entry] of Object.entries(backendEntries)) {
    const { provider: declared, ...settings } = entry;
    const provider = (declared ?? name) as BackendProvider;
    if (!backendProviders.includes(provider)) {
      issues.push({
        path: `backends.${name}.provider`,
        rawPath: ['backends', name, 'provider'],
        message: `expected provider to be one of local, aws, azure, gcp (the name '${name}' is not a provider)`,
      });
      continue;
    }
    backends.set(name, { name, provider, settings });
  }

  const resources: ConfiguredResource[] = [];
  const kinds = [
    { key: 'trainingJobs', kind: 'trainingJob', schema: trainingJobSpecSchema, entries: file.trainingJobs },
    { key: 'deployments', kind: 'deployment', schema: deploymentSpecSchema, entries: file.deployments },
  ] as const;
  for (const { key, kind, schema, entries } of kinds) {
    const overrides = environment?.[key] ?? {};
    const seen = new Set<string>();
    for (const [index, entry] of entries.entries()) {
      const basePath: RawPath = [key, index];
      const name = typeof entry.name === 'string' ? entry.name : undefined;
      const override = name === undefined ? undefined : overrides[name];
      const merged = (override ? mergeOverride(entry, override) : entry) as Record<string, unknown>;
      const { backend: _backend, dependsOn, ...specInput } = merged;
      const where = (relative: RawPath): RawPath =>
        override && hasPath(override, relative)
          ? [...environmentPath, key, name ?? '', ...relative]
          : [...basePath, ...relative];
      const result = (schema as z.ZodType).safeParse(specInput);
      if (!result.success) {
        for (const issue of zodIssues(result.error, [])) {
          issues.push({
            ...issue,
            path: formatPath([...basePath, ...issue.rawPath]),
            rawPath: where(issue.rawPath),
          });
        }
        continue;
      }
      const spec = resolvePaths(result.data as DeploymentSpec | TrainingJobSpec, kind, directory);
      if (seen.has(spec.name)) {
        issues.push({
          path: formatPath([...basePath, 'name']),
          rawPath: [...basePath, 'name'],
          message: `duplicate ${kind === 'deployment' ? 'deployment' : 'training job'} name '${spec.name}'`,
        });
      }
      seen.add(spec.name);
      // Most specific first: the environment's override of this resource, the environment, the resource, the only one.
      const overrideBackend = override && typeof override.backend === 'string' ? override.backend : undefined;
      const backend =
        overrideBackend ??
        environment?.backend ??
        (entry.backend as string | undefined) ??
        onlyBackend(backends);
      if (!backend || !backends.has(backend)) {
        issues.push({
          path: formatPath([...basePath, 'backend']),
          rawPath: where(['backend']),
          message: backend
            ? `expected the name of a backend under 'backends' (${[...backends.keys()].join(', ') || 'none defined'}), got '${backend}'`
            : `expected a backend: set 'backend' (backends: ${[...backends.keys()].join(', ') || 'none defined'})`,
        });
        continue;
      }
      resources.push({
        kind,
        name: spec.name,
        backend,
        spec,
        dependsOn: (dependsOn as string[] | undefined) ?? [],
      } as ConfiguredResource);
    }
  }
  inferDependencies(resources);
  issues.push(...dependencyIssues(resources, file));
  if (issues.length > 0) throw configError(raw, issues);

  return {
    path: raw.path,
    directory,
    project: file.project ?? 'default',
    environment: environmentName,
    backends,
    resources,
    pricing: file.pricing,
    locate: raw.locate,
  };
}

function onlyBackend(backends: Map<string, ConfiguredBackend>): string | undefined {
  return backends.size === 1 ? [...backends.keys()][0] : undefined;
}

function hasPath(value: unknown, path: RawPath): boolean {
  let node = value;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return false;
    if (!(String(segment) in node)) return false;
    node = (node as Record<string, unknown>)[String(segment)];
  }
  return true;
}

function zodIssues(error: z.ZodError, prefix: RawPath): LocatedIssue[] {
  const described = specIssues(error);
  return error.issues.map((issue, index) => {
    const rawPath = [
      ...prefix,
      ...issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment))),
    ];
    // An unknown field is best shown where it is written, not at its parent.
    const located =
      issue.code === 'unrecognized_keys' && issue.keys[0] ? [...rawPath, issue.keys[0]] : rawPath;
    return {
      path: formatPath(rawPath),
      rawPath: located,
      message: described[index]?.message ?? issue.message,
    };
  });
}

/** Local paths in the file are relative to the file, not to wherever the command runs. */
function resolvePaths<Spec extends DeploymentSpec | TrainingJobSpec>(
  spec: Spec,
  kind: string,
  directory: string,
): Spec {
  const local = (uri: string) => (uriScheme.test(uri) || isAbsolute(uri) ? uri : resolve(directory, uri));
  if (kind === 'deployment') {
    const deployment = structuredClone(spec) as DeploymentSpec;
    if ('uri' in deployment.model) deployment.model.uri = local(deployment.model.uri);
    for (const entry of deployment.traffic ?? [])
      if ('uri' in entry.model) entry.model.uri = local(entry.model.uri);
    return deployment as Spec;
  }
  const job = structuredClone(spec) as TrainingJobSpec;
  for (const input of Object.values(job.inputs)) input.uri = local(input.uri);
  if (job.output) job.output.uri = local(job.output.uri);
  if (job.spot?.checkpointPath) job.spot.checkpointPath = local(job.spot.checkpointPath);
  return job as Spec;
}

/** A deployment serving a file under a job's output folder depends on that job. */
function inferDependencies(resources: ConfiguredResource[]): void {
  const outputs = resources.flatMap((resource) =>
    resource.kind === 'trainingJob' && resource.spec.output
      ? [{ name: resource.name, uri: resource.spec.output.uri }]
      : [],
  );
  for (const resource of resources) {
    if (resource.kind !== 'deployment') continue;
    const uris = modelUris(resource.spec);
    for (const output of outputs) {
      const prefix = output.uri.endsWith('/') ? output.uri : `${output.uri}/`;
      if (
        uris.some((uri) => uri === output.uri || uri.startsWith(prefix)) &&
        !resource.dependsOn.includes(output.name)
      ) {
        resource.dependsOn.push(output.name);
      }
    }
  }
}

function dependencyIssues(
  resources: ConfiguredResource[],
  file: { deployments: unknown[]; trainingJobs: unknown[] },
): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  const names = new Set(resources.map((resource) => resource.name));
  const pathOf = (resource: ConfiguredResource): RawPath => {
    const list = (resource.kind === 'deployment' ? file.deployments : file.trainingJobs) as {
      name?: unknown;
    }[];
    return [
      resource.kind === 'deployment' ? 'deployments' : 'trainingJobs',
      list.findIndex((entry) => entry.name === resource.name),
      'dependsOn',
    ];
  };
  for (const resource of resources) {
    for (const dependency of resource.dependsOn) {
      if (!names.has(dependency)) {
        const rawPath = pathOf(resource);
        issues.push({
          path: formatPath(rawPath),
          rawPath,
          message: `expected the name of a deployment or training job in this file, got '${dependency}'`,
        });
      }
    }
  }
  // Depth-first search for a cycle; one report is enough to fix it.
  const byName = new Map(resources.map((resource) => [resource.name, resource]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (resource: ConfiguredResource, trail: string[]): string[] | undefined => {
    if (state.get(resource.name) === 'done') return undefined;
    if (state.get(resource.name) === 'visiting') return [...trail, resource.name];
    state.set(resource.name, 'visiting');
    for (const dependency of resource.dependsOn) {
      const next = byName.get(dependency);
      const cycle = next && visit(next, [...trail, resource.name]);
      if (cycle) return cycle;
    }
    state.set(resource.name, 'done');
    return undefined;
  };
  for (const resource of resources) {
    const cycle = visit(resource, []);
    if (cycle) {
      const rawPath = pathOf(resource);
      issues.push({ path: formatPath(rawPath), rawPath, message: `dependency cycle: ${cycle.join(' → ')}` });
      break;
    }
  }
  return issues;
}

function configError(raw: RawConfigFile, issues: LocatedIssue[]): MlscaleError {
  const name = basename(raw.path);
  const lines = issues.map((issue) => {
    const position = raw.locate(issue.rawPath);
    const where = position ? `${name}:${position.line}:${position.column}` : name;
    return `${where}: ${issue.path}: ${issue.message}`;
  });
  return new MlscaleError({
    code: 'InvalidSpec',
    message: `Invalid config (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.map((line) => `  ${line}`).join('\n')}`,
    issues: issues.map((issue) => {
      const position = raw.locate(issue.rawPath);
      return {
        path: issue.path,
        message: position ? `${issue.message} (line ${position.line})` : issue.message,
      };
    }),
  });
}
