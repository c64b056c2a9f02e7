import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { timestamp } from './clock.js';
import { checkedParent, type EmulatorContext, requiredString, unaryHandlers } from './context.js';
import { unusableKeyError } from './encryption-keys.js';
import { matchesFilter, parseFilter } from './filter.js';
import { statusError } from './grpc-status.js';
import { pageOf } from './list-pages.js';
import { checkLabels, checkModelId } from './resource-rules.js';
import type { StoredModel, Wire } from './vertex-state.js';

const v1 = 'google.cloud.aiplatform.v1';

/** Splits `projects/P/locations/L/models/ID@VERSION` (or `@alias`) into the model name and version. */
export function parseModelName(name: string): { model: string; id: string; version: string | undefined } {
  const match = /^(projects\/[^/]+\/locations\/[^/]+\/models\/([^/@]+))(?:@([^/]+))?$/.exec(name);
  if (!match)
    throw statusError(
      'INVALID_ARGUMENT',
      `Expected a model name "projects/*/locations/*/models/*", got "${name}".`,
    );
  return { model: match[1]!, id: match[2]!, version: match[3] };
}

/** The model version a name points at: an explicit version id or alias, else the default version. */
export function findModelVersion(context: EmulatorContext, name: string): StoredModel {
  const { id, version } = parseModelName(name);
  const versions = context.state.models.get(id);
  const found = versions?.find((candidate) =>
    version === undefined
      ? candidate.versionAliases.includes('default')
      : candidate.versionId === version || candidate.versionAliases.includes(version),
  );
  if (!found) throw statusError('NOT_FOUND', `Model "${name}" not found.`);
  return found;
}

/** A model version as the API shows it: `versionId` set, `name` without the version. */
function view(model: StoredModel): Wire {
  return { ...model };
}

export function modelService(context: EmulatorContext): UntypedServiceImplementation {
  const { state } = context;
  return unaryHandlers(context, 'ModelService', {
    UploadModel(request) {
      const parent = checkedParent(context, requiredString(request, 'parent'));
      const input = (request.model ?? {}) as Wire;
      if (typeof input.displayName !== 'string' || !input.displayName) {
        throw statusError('INVALID_ARGUMENT', 'Field "model.display_name" is required.');
      }
      const containerSpec = input.containerSpec as Wire | undefined;
      if (!containerSpec?.imageUri) {
        throw statusError(
          'INVALID_ARGUMENT',
          'Field "model.container_spec.image_uri" is required for a custom-container model.',
        );
      }
      checkLabels(input.labels as Record<string, string> | undefined, 'model.labels');
      const parentModel =
        typeof request.parentModel === 'string' && request.parentModel ? request.parentModel : undefined;
      let id: string;
      let versions: StoredModel[];
      if (parentModel) {
        const parsed = parseModelName(parentModel);
        const existing = state.models.get(parsed.id);
        if (!existing) throw statusError('NOT_FOUND', `Parent model "${parentModel}" not found.`);
        id = parsed.id;
        versions = existing;
      } else {
        const chosen = typeof request.modelId === 'string' && request.modelId ? request.modelId : undefined;
        if (chosen) checkModelId(chosen);
        id = chosen ?? context.nextId();
        // A chosen id is taken from the request on: by a model, or by an upload still in progress.
        if (state.models.has(id) || context.operations.running(`${parent}/models/${id}`).length > 0)
          throw statusError('ALREADY_EXISTS', `Model "${parent}/models/${id}" already exists.`);
        versions = [];
      }
      const versionId = String(versions.length === 0 ? 1 : Number(versions.at(-1)!.versionId) + 1);
      const name = `${parent}/models/${id}`;
      return context.operations.start({
        resource: `${name}`,
        method: 'UploadModel',
        metadataType: `${v1}.UploadModelOperationMetadata`,
        delayMs: context.delays.operationMs,
        complete: () => {
          const refusal = unusableKeyError(context, input.encryptionSpec);
          if (refusal) throw refusal;
          const now = timestamp(context.clock.now());
          const model: StoredModel = {
            ...input,
            name,
            versionId,
            versionAliases: [],
            displayName: String(input.displayName),
            labels: (input.labels as Record<string, string>) ?? {},
            createTime: versions[0]?.createTime ?? now,
            updateTime: now,
            versionCreateTime: now,
            deployedModels: [],
          };
          // The newest version becomes the default, as Vertex does for uploads without aliases.
          for (const version of versions)
            version.versionAliases = version.versionAliases.filter((alias) => alias !== 'default');
          model.versionAliases = ['default'];
          versions.push(model);
          state.models.set(id, versions);
          return { type: `${v1}.UploadModelResponse`, message: { model: name, modelVersionId: versionId } };
        },
      });
    },
    GetModel(request) {
      return view(findModelVersion(context, requiredString(request, 'name')));
    },
    ListModels(request) {
      const parent = checkedParent(context, requiredString(request, 'parent'));
      const clauses = parseFilter(request.filter as string | undefined);
      if (clauses instanceof Error) throw statusError('INVALID_ARGUMENT', clauses.message);
      const models = [...state.models.values()]
        .map(
          (versions) =>
            versions.find((version) => version.versionAliases.includes('default')) ?? versions.at(-1)!,
        )
        .filter((model) => model.name.startsWith(`${parent}/`) && matchesFilter(clauses, model));
      const page = pageOf(models.map(view), request);
      return { models: page.items, nextPageToken: page.nextPageToken };
    },
    ListModelVersions(request) {
      const { id } = parseModelName(requiredString(request, 'name'));
      const versions = state.models.get(id);
      if (!versions) throw statusError('NOT_FOUND', `Model "${String(request.name)}" not found.`);
      const clauses = parseFilter(request.filter as string | undefined);
      if (clauses instanceof Error) throw statusError('INVALID_ARGUMENT', clauses.message);
      const page = pageOf(versions.filter((model) => matchesFilter(clauses, model)).map(view), request);
      return { models: page.items, nextPageToken: page.nextPageToken };
    },
    DeleteModel(request) {
      const name = requiredString(request, 'name');
      const { id, version } = parseModelName(name);
      const versions = state.models.get(id);
      if (!versions || version) throw statusError('NOT_FOUND', `Model "${name}" not found.`);
      const busy = context.operations.running(name)[0];
      if (busy)
        throw statusError(
          'FAILED_PRECONDITION',
          `Model "${name}" cannot be deleted: operation ${busy.name} (${busy.method}) is in progress on it.`,
        );
      const deployed = versions.find((model) => model.deployedModels.length > 0);
      if (deployed) {
        throw statusError(
          'FAILED_PRECONDITION',
          `Model "${name}" is deployed to endpoint ${deployed.deployedModels[0]!.endpoint}; undeploy it first.`,
        );
      }
      return context.operations.start({
        resource: name,
        method: 'DeleteModel',
        metadataType: `${v1}.DeleteOperationMetadata`,
        delayMs: context.delays.operationMs,
        complete: () => {
          state.models.delete(id);
          return { type: 'google.protobuf.Empty', message: {} };
        },
      });
    },
  });
}
