import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { fromProtobufValue, type ProtobufValue, toProtobufValue } from '../protobuf-value.js';
import { type EmulatorContext, requiredString, unaryHandlers } from './context.js';
import { findEndpoint } from './endpoint-service.js';
import { isStatusError, statusError } from './grpc-status.js';
import { findModelVersion } from './model-service.js';
import type { StoredDeployedModel, StoredEndpoint } from './vertex-state.js';

const prefix = 'aiplatform.googleapis.com/prediction/online/';

/**
 * Serves Predict: picks a deployed model by the endpoint's traffic split (smooth weighted round robin,
 * so a 90/10 split sends exactly 1 in 10 requests to the canary), runs the predictor, and records the
 * Cloud Monitoring metrics Vertex reports for online prediction.
 */
export function predictionService(context: EmulatorContext): UntypedServiceImplementation {
  const rotation = new Map<string, Map<string, number>>();

  function route(endpoint: StoredEndpoint): StoredDeployedModel {
    const weights = Object.entries(endpoint.trafficSplit).filter(([, percent]) => percent > 0);
    if (weights.length === 0) {
      throw statusError(
        'FAILED_PRECONDITION',
        `Endpoint "${endpoint.name}" has no deployed model receiving traffic.`,
      );
    }
    const current = rotation.get(endpoint.name) ?? new Map<string, number>();
    rotation.set(endpoint.name, current);
    let best: string | undefined;
    for (const [id, percent] of weights) {
      const value = (current.get(id) ?? 0) + percent;
      current.set(id, value);
      if (best === undefined || value > current.get(best)!) best = id;
    }
    current.set(best!, current.get(best!)! - 100);
    const deployed = endpoint.deployedModels.find((candidate) => candidate.id === best);
    if (!deployed) throw statusError('INTERNAL', `Traffic split names missing deployed model "${best}".`);
    return deployed;
  }

  return unaryHandlers(context, 'PredictionService', {
    async Predict(request) {
      const endpoint = findEndpoint(context, requiredString(request, 'endpoint'));
      const instances = ((request.instances ?? []) as ProtobufValue[]).map(fromProtobufValue);
      if (instances.length === 0)
        throw statusError('INVALID_ARGUMENT', 'Field "instances" must not be empty.');
      const deployed = route(endpoint);
      const model = findModelVersion(context, `${deployed.model}@${deployed.modelVersionId}`);
      const labels = {
        resourceLabels: {
          endpoint_id: endpoint.name.split('/').at(-1)!,
          resource_container: endpoint.name.split('/')[1]!,
        },
        metricLabels: { deployed_model_id: deployed.id },
      };
      const started = performance.now();
      try {
        const predictions = await context.predictor({
          endpoint,
          deployedModel: deployed,
          model,
          instances,
          parameters: request.parameters ? fromProtobufValue(request.parameters as ProtobufValue) : undefined,
        });
        if (!Array.isArray(predictions) || predictions.length !== instances.length) {
          throw statusError(
            'INTERNAL',
            `The predictor returned ${Array.isArray(predictions) ? predictions.length : 'no'} predictions for ${instances.length} instances.`,
          );
        }
        const time = new Date();
        context.logs.write({
          logName: `projects/${endpoint.name.split('/')[1]}/logs/aiplatform.googleapis.com%2Fprediction_access`,
          resource: { type: 'aiplatform.googleapis.com/Endpoint', labels: labels.resourceLabels },
          time,
          textPayload: `POST :predict 200 ${instances.length} instances ${Math.round(performance.now() - started)} ms deployed_model_id=${deployed.id}`,
          labels: { deployed_model_id: deployed.id },
        });
        context.metrics.record({ ...labels, type: `${prefix}prediction_count`, time, value: 1 });
        context.metrics.record({
          ...labels,
          type: `${prefix}prediction_latencies`,
          time,
          value: performance.now() - started,
        });
        return {
          predictions: predictions.map(toProtobufValue),
          deployedModelId: deployed.id,
          model: deployed.model,
          modelVersionId: deployed.modelVersionId,
          modelDisplayName: model.displayName,
        };
      } catch (error) {
        const code = isStatusError(error) && error.code === 3 ? '400' : '500';
        context.metrics.record({
          ...labels,
          metricLabels: { ...labels.metricLabels, response_code: code },
          type: `${prefix}error_count`,
          time: new Date(),
          value: 1,
        });
        throw error;
      }
    },
  });
}
