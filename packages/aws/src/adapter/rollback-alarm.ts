import type { DeploymentSpec } from '@mlscale/core';
import type { AdapterContext } from './adapter-context.js';
import { rollbackAlarmName } from './resource-names.js';

/**
 * The CloudWatch alarm a blue/green update with a rollout watches (AutoRollbackConfiguration): the new
 * fleet's 5XX error rate above `rollout.maxErrorRate`. PutMetricAlarm is an upsert; it is put before
 * UpdateEndpoint (SageMaker refuses an update naming an alarm that does not exist).
 */
export async function putRollbackAlarm(
  context: AdapterContext,
  spec: DeploymentSpec,
  variant: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const rollout = spec.rollout;
  if (!rollout) return;
  await context.aws.call(
    'cloudWatch',
    'PutMetricAlarm',
    ({ module, client }, abortSignal) =>
      client.send(
        new module.PutMetricAlarmCommand({
          AlarmName: rollbackAlarmName(spec.name),
          AlarmDescription: `mlscale: rolls back an update of '${spec.name}' when more than ${rollout.maxErrorRate * 100}% of requests fail.`,
          Namespace: 'AWS/SageMaker',
          MetricName: 'Invocation5XXErrors',
          Dimensions: [
            { Name: 'EndpointName', Value: spec.name },
            { Name: 'VariantName', Value: variant },
          ],
          // SageMaker emits 0 or 1 per request, so the average is the error rate.
          Statistic: 'Average',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: rollout.maxErrorRate,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
        }),
        { abortSignal },
      ),
    signal,
  );
}

/** Removes the deployment's rollback alarm if it is there (DescribeAlarms first); whether it was. */
export async function removeRollbackAlarm(
  context: AdapterContext,
  name: string,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const alarmName = rollbackAlarmName(name);
  const found = await context.aws.call(
    'cloudWatch',
    'DescribeAlarms',
    ({ module, client }, abortSignal) =>
      client.send(
        new module.DescribeAlarmsCommand({ AlarmNames: [alarmName], AlarmTypes: ['MetricAlarm'] }),
        {
          abortSignal,
        },
      ),
    signal,
  );
  if (!(found.MetricAlarms ?? []).some((alarm) => alarm.AlarmName === alarmName)) return false;
  await context.aws.find(
    'cloudWatch',
    'DeleteAlarms',
    ({ module, client }, abortSignal) =>
      client.send(new module.DeleteAlarmsCommand({ AlarmNames: [alarmName] }), { abortSignal }),
    signal,
  );
  return true;
}
