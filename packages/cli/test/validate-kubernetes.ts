import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Service } from 'kubernetes-models/v1/Service';

/**
 * Validates a manifest against the Kubernetes API's OpenAPI schema (kubernetes-models compiles it with
 * ajv): throws on unknown fields, wrong types or missing required fields.
 */
export function validateManifest(manifest: { kind: string }): void {
  const models: Record<string, new (data: never) => { validate(): void }> = {
    Deployment: Deployment as never,
    Service: Service as never,
    HorizontalPodAutoscaler: HorizontalPodAutoscaler as never,
  };
  const Model = models[manifest.kind];
  if (!Model) throw new Error(`No schema for kind ${manifest.kind}`);
  new Model(manifest as never).validate();
}
