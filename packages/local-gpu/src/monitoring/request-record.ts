/** What the server reports once per request. No bodies: those go to data capture only. */
export interface RequestRecord {
  /** When the request finished, epoch milliseconds (defaults to the monitoring clock's now). */
  timeMs?: number;
  /** The route served (`POST /v2/models/m/infer`, `POST /invocations`, ...). */
  route: string;
  /** The HTTP status answered. */
  status: number;
  /** Time from receipt to answer, in milliseconds. */
  latencyMs: number;
  /** Rows in the request (or in the batch it joined). */
  batchSize?: number;
  /** The replica (worker) that ran it. */
  replica?: string | number;
  /** The model version that answered (blue/green rollouts serve two). */
  modelVersion?: string;
}
