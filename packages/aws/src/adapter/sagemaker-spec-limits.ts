import type { DeploymentSpec, MlscaleError, SpecIssue } from '@mlscale/core';
import { specRefusal } from '@mlscale/core/provider-utils';
import { translateRollout } from './rollout-translation.js';

/** CreateEndpointConfig's ProductionVariants holds 1–10 variants (SageMaker API reference). */
const maximumVariants = 10;

/**
 * What makes a deployment spec impossible on SageMaker by its documented limits, each with the field
 * and what is expected: a rollout its blue/green update cannot express, a split over more variants
 * than an endpoint config holds. Pure: `validateSpec`, and the same check inside doCreate and doUpdate.
 */
export function sageMakerSpecIssues(spec: DeploymentSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  if (spec.rollout) {
    const translated = translateRollout(spec.rollout);
    if (Array.isArray(translated)) issues.push(...translated);
  }
  if (spec.traffic && spec.traffic.length > maximumVariants) {
    issues.push({
      path: 'traffic',
      message: `expected at most ${maximumVariants} models: a SageMaker endpoint config holds 1–${maximumVariants} production variants; got ${spec.traffic.length}`,
    });
  }
  return issues;
}

/** The `InvalidSpec` that lists what SageMaker cannot run of deployment `name`. */
export function sageMakerRefusal(name: string, issues: readonly SpecIssue[]): MlscaleError {
  return specRefusal('aws', name, issues);
}

/** Throws `InvalidSpec` listing `sageMakerSpecIssues(spec)`, as the client does before any call. */
export function assertSageMakerAccepts(spec: DeploymentSpec): void {
  const issues = sageMakerSpecIssues(spec);
  if (issues.length > 0) throw sageMakerRefusal(spec.name, issues);
}
