import type { TokenCredential } from '@azure/core-auth';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { parseSpec } from '@mlscale/core';
import { z } from 'zod';

const credentialSchema = z.custom<TokenCredential>(
  (value) =>
    typeof value === 'object' && value !== null && typeof (value as TokenCredential).getToken === 'function',
  'expected a TokenCredential (an object with getToken), such as DefaultAzureCredential',
);

const policySchema = z.custom<PipelinePolicy>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as PipelinePolicy).name === 'string' &&
    typeof (value as PipelinePolicy).sendRequest === 'function',
  'expected a pipeline policy ({ name, sendRequest })',
);

/** What `azureml()` takes. Missing ids come from the environment (see README). */
export const azureMlSettingsSchema = z
  .object({
    /** The Azure subscription id. Env: `AZURE_SUBSCRIPTION_ID`. */
    subscriptionId: z.string().min(1).optional(),
    /** The workspace's resource group. Env: `AZURE_RESOURCE_GROUP`. */
    resourceGroup: z.string().min(1).optional(),
    /** The Azure Machine Learning workspace name. Env: `AZUREML_WORKSPACE_NAME`. */
    workspace: z.string().min(1).optional(),
    /** Signs ARM requests. Default: `DefaultAzureCredential` from `@azure/identity`, imported when first needed. */
    credential: credentialSchema.optional(),
    /** The ARM endpoint (sovereign clouds). Env: `AZURE_RESOURCE_MANAGER_ENDPOINT`. Default `https://management.azure.com`. */
    endpoint: z.url({ protocol: /^https$/, error: 'expected an https URL' }).optional(),
    /** Extra pipeline policies (proxies, the emulator's redirect), as Azure SDK clients take them. */
    additionalPolicies: z
      .array(z.object({ policy: policySchema, position: z.enum(['perCall', 'perRetry']) }).strict())
      .default([]),
    /** The region new endpoints go to. Default: the workspace's own. */
    location: z.string().min(1).optional(),
    /** How often `logs({ follow: true })` reads new lines (at least 1 s) and the SDK's poll interval. Default 2000 ms. */
    pollIntervalMs: z.number().int().min(1).max(60_000).default(2_000),
    /** The mlscale server image deployments run as a custom container. */
    serverImage: z.string().min(1).default('ghcr.io/mlscale/server:0.1.0'),
    /** The port the server image listens on. */
    serverPort: z.number().int().min(1).max(65_535).default(8080),
    /** The instance type when a spec names none. */
    defaultInstanceType: z.string().min(1).default('Standard_DS3_v2'),
    /** The instance type when a spec asks for an accelerator but names no type. */
    defaultGpuInstanceType: z.string().min(1).default('Standard_NC4as_T4_v3'),
    /** How new endpoints authenticate callers. Default `key`. */
    authMode: z.enum(['key', 'amlToken', 'aadToken']).default('key'),
    /** The compute cluster training jobs run on (a name or ARM id). Env: `AZUREML_COMPUTE`. */
    compute: z.string().min(1).optional(),
    /** A low-priority compute cluster for `spot` jobs (Azure ML 2022-10-01 has spot only through such a cluster). */
    spotCompute: z.string().min(1).optional(),
    /** The datastore artifacts are uploaded to. Default `workspaceblobstore`. */
    datastore: z.string().min(1).default('workspaceblobstore'),
    /** Overrides the datastore's blob service URL (azurite, private endpoints). */
    blobServiceUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  })
  .strict();

export type AzureMlSettingsInput = z.input<typeof azureMlSettingsSchema>;

/** Settings after defaults and the environment are applied. */
export type ResolvedAzureMlSettings = Omit<
  z.infer<typeof azureMlSettingsSchema>,
  'subscriptionId' | 'resourceGroup' | 'workspace' | 'endpoint'
> & {
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  endpoint: string;
};

/** Validates settings, fills ids from the environment, and names what is still missing. */
export function resolveSettings(
  input: AzureMlSettingsInput = {},
  environment: NodeJS.ProcessEnv = process.env,
): ResolvedAzureMlSettings {
  const settings = parseSpec(azureMlSettingsSchema, input, 'azureml settings');
  const subscriptionId = settings.subscriptionId ?? environment.AZURE_SUBSCRIPTION_ID;
  const resourceGroup = settings.resourceGroup ?? environment.AZURE_RESOURCE_GROUP;
  const workspace = settings.workspace ?? environment.AZUREML_WORKSPACE_NAME;
  const missing = [
    subscriptionId ? undefined : { path: 'subscriptionId', variable: 'AZURE_SUBSCRIPTION_ID' },
    resourceGroup ? undefined : { path: 'resourceGroup', variable: 'AZURE_RESOURCE_GROUP' },
    workspace ? undefined : { path: 'workspace', variable: 'AZUREML_WORKSPACE_NAME' },
  ].filter((item) => item !== undefined);
  if (missing.length > 0) {
    const shape = Object.fromEntries(
      missing.map((item) => [item.path, z.string({ error: `required: set it or ${item.variable}` })]),
    );
    parseSpec(z.object(shape), {}, 'azureml settings');
  }
  const endpoint =
    settings.endpoint ?? environment.AZURE_RESOURCE_MANAGER_ENDPOINT ?? 'https://management.azure.com';
  return {
    ...settings,
    subscriptionId: subscriptionId as string,
    resourceGroup: resourceGroup as string,
    workspace: workspace as string,
    endpoint: endpoint.replace(/\/+$/, ''),
    compute: settings.compute ?? environment.AZUREML_COMPUTE,
  } as ResolvedAzureMlSettings;
}
