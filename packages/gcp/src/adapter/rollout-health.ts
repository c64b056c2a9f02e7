import type { protos } from '@google-cloud/monitoring';
import { collect, listAll, singlePage } from './calls.js';
import { type AdapterContext, clientsOf } from './context.js';
import { resourceId } from './names.js';

const prefix = 'aiplatform.googleapis.com/prediction/online/';

/**
 * Requests and errors of some deployed models since `from`, from Cloud Monitoring: what a rollout step
 * is judged on once it has run its `stepSeconds`.
 */
export async function deployedModelHealth(
  context: AdapterContext,
  endpoint: string,
  deployedModelIds: string[],
  from: Date,
  signal: AbortSignal | undefined,
): Promise<{ requests: number; errors: number }> {
  const clients = await clientsOf(context);
  const to = new Date();
  const total = async (metric: string) => {
    let sum = 0;
    for (const id of deployedModelIds) {
      const series = await collect(
        listAll<protos.google.monitoring.v3.ITimeSeries>(
          'Cloud Monitoring ListTimeSeries',
          signal,
          (pageToken) =>
            clients.metrics.listTimeSeries(
              {
                name: `projects/${context.settings.project}`,
                filter: `metric.type = "${prefix}${metric}" AND resource.labels.endpoint_id = "${resourceId(endpoint)}" AND metric.labels.deployed_model_id = "${id}"`,
                interval: {
                  startTime: { seconds: Math.floor(from.getTime() / 1000) },
                  endTime: { seconds: Math.ceil(to.getTime() / 1000) + 1 },
                },
                aggregation: {
                  alignmentPeriod: {
                    seconds: Math.max(1, Math.ceil((to.getTime() - from.getTime()) / 1000) + 2),
                  },
                  perSeriesAligner: 'ALIGN_SUM' as never,
                  crossSeriesReducer: 'REDUCE_SUM' as never,
                },
                ...(pageToken ? { pageToken } : {}),
              },
              singlePage,
            ),
        ),
      );
      for (const item of series)
        for (const point of item.points ?? [])
          sum += Number(point.value?.doubleValue ?? point.value?.int64Value ?? 0);
    }
    return sum;
  };
  const requests = await total('prediction_count');
  const errors = await total('error_count');
  return { requests: requests + errors, errors };
}
