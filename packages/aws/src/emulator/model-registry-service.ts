import { randomUUID } from 'node:crypto';
import { AwsServiceError, invalidField } from './aws-service-error.js';
import { type EmulatorContext, epochSeconds, type JsonObject, stringField } from './emulator-context.js';
import { paginate } from './pagination.js';
import type { SageMakerHandler } from './sagemaker-service.js';

const versionedArn = /^arn:aws[a-z-]*:sagemaker:[^:]+:\d{12}:model-package\/([^/]+)\/(\d+)$/;

function requireGroup(context: EmulatorContext, name: unknown) {
  const group = typeof name === 'string' ? context.modelPackageGroups.get(name) : undefined;
  if (!group)
    throw new AwsServiceError('ValidationException', `ModelPackageGroup ${String(name)} does not exist.`);
  return group;
}

function findPackage(context: EmulatorContext, name: unknown) {
  const match = typeof name === 'string' ? versionedArn.exec(name) : null;
  const versions = match ? context.modelPackages.get(match[1]!) : undefined;
  const found = versions?.find((candidate) => candidate.ModelPackageVersion === Number(match?.[2]));
  if (!found)
    throw new AwsServiceError('ValidationException', `ModelPackage ${String(name)} does not exist.`);
  return found;
}

function summary(
  item: JsonObject & { ModelPackageArn: string; ModelPackageVersion: number; CreationTime: number },
): JsonObject {
  return {
    ModelPackageName: item.ModelPackageGroupName,
    ModelPackageGroupName: item.ModelPackageGroupName,
    ModelPackageVersion: item.ModelPackageVersion,
    ModelPackageArn: item.ModelPackageArn,
    ...(item.ModelPackageDescription ? { ModelPackageDescription: item.ModelPackageDescription } : {}),
    CreationTime: epochSeconds(item.CreationTime),
    ModelPackageStatus: 'Completed',
    ModelApprovalStatus: item.ModelApprovalStatus ?? 'PendingManualApproval',
  };
}

/** The SageMaker Model Registry: model package groups and their versioned model packages. */
export const modelRegistryHandlers: Readonly<Record<string, SageMakerHandler>> = {
  CreateModelPackageGroup(context, input) {
    const name = stringField(input, 'ModelPackageGroupName');
    if (!name || !/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(name)) {
      throw invalidField(
        'ModelPackageGroupName',
        'Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$',
      );
    }
    const existing = context.modelPackageGroups.get(name);
    if (existing) {
      throw new AwsServiceError(
        'ValidationException',
        `Model Package Group already exists: ${existing.ModelPackageGroupArn}`,
      );
    }
    const ModelPackageGroupArn = context.arn('sagemaker', `model-package-group/${name.toLowerCase()}`);
    context.modelPackageGroups.set(name, {
      ...input,
      ModelPackageGroupName: name,
      ModelPackageGroupArn,
      CreationTime: context.now(),
    });
    context.modelPackages.set(name, []);
    return { ModelPackageGroupArn };
  },

  DescribeModelPackageGroup(context, input) {
    const group = requireGroup(context, input.ModelPackageGroupName);
    return {
      ModelPackageGroupName: group.ModelPackageGroupName,
      ModelPackageGroupArn: group.ModelPackageGroupArn,
      ...(group.ModelPackageGroupDescription
        ? { ModelPackageGroupDescription: group.ModelPackageGroupDescription }
        : {}),
      CreationTime: epochSeconds(group.CreationTime),
      ModelPackageGroupStatus: 'Completed',
    };
  },

  ListModelPackageGroups(context, input) {
    const direction = input.SortOrder === 'Ascending' ? 1 : -1;
    const items = [...context.modelPackageGroups.values()]
      .filter(
        (group) =>
          typeof input.NameContains !== 'string' || group.ModelPackageGroupName.includes(input.NameContains),
      )
      .sort((left, right) => direction * (left.CreationTime - right.CreationTime))
      .map((group) => ({
        ModelPackageGroupName: group.ModelPackageGroupName,
        ModelPackageGroupArn: group.ModelPackageGroupArn,
        CreationTime: epochSeconds(group.CreationTime),
        ModelPackageGroupStatus: 'Completed',
      }));
    const { page, nextToken } = paginate(items, input.NextToken, input.MaxResults, 10);
    return { ModelPackageGroupSummaryList: page, ...(nextToken ? { NextToken: nextToken } : {}) };
  },

  CreateModelPackage(context, input) {
    const group = requireGroup(context, input.ModelPackageGroupName);
    const specification = input.InferenceSpecification as JsonObject | undefined;
    const containers = specification?.Containers;
    if (
      !Array.isArray(containers) ||
      containers.length === 0 ||
      containers.some((container) => !(container as JsonObject).Image)
    ) {
      throw invalidField('InferenceSpecification.Containers', 'each container needs an Image');
    }
    const properties = (input.CustomerMetadataProperties ?? {}) as Record<string, string>;
    if (
      Object.keys(properties).length > 50 ||
      Object.entries(properties).some(([key, value]) => key.length > 128 || String(value).length > 256)
    ) {
      throw invalidField(
        'CustomerMetadataProperties',
        'at most 50 entries, keys up to 128 and values up to 256 characters',
      );
    }
    const versions = context.modelPackages.get(group.ModelPackageGroupName)!;
    const version = versions.length + 1;
    const record = {
      ...input,
      ModelPackageGroupName: group.ModelPackageGroupName,
      ModelPackageVersion: version,
      ModelPackageArn: context.arn(
        'sagemaker',
        `model-package/${group.ModelPackageGroupName.toLowerCase()}/${version}`,
      ),
      CreationTime: context.now(),
      ModelPackageId: randomUUID(),
    };
    versions.push(record);
    return { ModelPackageArn: record.ModelPackageArn };
  },

  DescribeModelPackage(context, input) {
    const found = findPackage(context, input.ModelPackageName);
    const { Tags: _tags, ClientToken: _token, ModelPackageId: _id, ...rest } = found;
    return { ...rest, ...summary(found) };
  },

  ListModelPackages(context, input) {
    const groupName = stringField(input, 'ModelPackageGroupName');
    if (groupName) requireGroup(context, groupName);
    const versions = groupName
      ? context.modelPackages.get(groupName)!
      : [...context.modelPackages.values()].flat();
    const direction = input.SortOrder === 'Ascending' ? 1 : -1;
    const items = [...versions]
      .sort(
        (left, right) =>
          direction *
          (left.CreationTime - right.CreationTime || left.ModelPackageVersion - right.ModelPackageVersion),
      )
      .map(summary);
    const { page, nextToken } = paginate(items, input.NextToken, input.MaxResults, 10);
    return { ModelPackageSummaryList: page, ...(nextToken ? { NextToken: nextToken } : {}) };
  },
};
