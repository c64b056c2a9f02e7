/** The calls that change something, and so are audited and reported as operations. */
export type MutatingOperation =
  | 'deploy'
  | 'update'
  | 'scale'
  | 'autoscale'
  | 'delete'
  | 'reconcile'
  | 'train'
  | 'stopJob'
  | 'putAlert'
  | 'deleteAlert'
  | 'registerModel';

/** Progress the client reports through `onEvent`. */
export type MlscaleEvent =
  | { type: 'operation-started'; operation: MutatingOperation; target: string; time: Date }
  | {
      type: 'operation-progress';
      operation: MutatingOperation;
      target: string;
      time: Date;
      state: string;
      elapsedMs: number;
    }
  | {
      type: 'operation-retry';
      operation: string;
      target: string;
      time: Date;
      attempt: number;
      delayMs: number;
      error: string;
    }
  | {
      /** Something the caller should know that did not stop the operation (a check that could not run). */
      type: 'operation-warning';
      operation: MutatingOperation;
      target: string;
      time: Date;
      message: string;
    }
  | {
      type: 'operation-succeeded';
      operation: MutatingOperation;
      target: string;
      time: Date;
      durationMs: number;
    }
  | {
      type: 'operation-failed';
      operation: MutatingOperation;
      target: string;
      time: Date;
      durationMs: number;
      error: string;
    };
