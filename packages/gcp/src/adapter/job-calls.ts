import type { protos } from '@google-cloud/aiplatform';
import { collect, listAll, singlePage } from './calls.js';
import { type AdapterContext, clientsOf, toDate } from './context.js';
import { labelFilter, labelKeys, locationName } from './names.js';

export type ICustomJob = protos.google.cloud.aiplatform.v1.ICustomJob;

/** Custom jobs with a label value, newest first. */
export async function listCustomJobs(
  context: AdapterContext,
  labelKey: string,
  labelValue: string,
  signal?: AbortSignal,
): Promise<ICustomJob[]> {
  const clients = await clientsOf(context);
  const jobs = await collect(
    listAll<ICustomJob>('ListCustomJobs', signal, (pageToken) =>
      clients.jobs.listCustomJobs(
        {
          parent: locationName(context.settings),
          filter: labelFilter(labelKey, labelValue),
          ...(pageToken ? { pageToken } : {}),
        },
        singlePage,
      ),
    ),
  );
  return jobs.sort((a, b) => Number(toDate(b.createTime) ?? 0) - Number(toDate(a.createTime) ?? 0));
}

/** The custom job mlscale started under a training job name (the newest, if several). */
export async function findCustomJob(
  context: AdapterContext,
  name: string,
  signal?: AbortSignal,
): Promise<ICustomJob | undefined> {
  return (await listCustomJobs(context, labelKeys.job, name, signal))[0];
}
