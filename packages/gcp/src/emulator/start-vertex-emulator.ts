import type { ChannelCredentials } from '@grpc/grpc-js';
import { parseSpec } from '@mlscale/core';
import { z } from 'zod';
import { alertPolicyService } from './alert-policy-service.js';
import { createClock, createScheduler } from './clock.js';
import type { EmulatorContext, RecordedRequest } from './context.js';
import { createInspection, type VertexEmulatorInspection } from './emulator-inspection.js';
import { endpointService } from './endpoint-service.js';
import { createFaultQueue } from './fault-injection.js';
import { jobService, sleepingJobRunner } from './job-service.js';
import { createLogStore } from './log-store.js';
import { createMetricStore, type MetricSample } from './metric-store.js';
import { modelService } from './model-service.js';
import { createOperationStore } from './operation-store.js';
import { predictionService } from './prediction-service.js';
import { type Predictor, softmaxPredictor } from './predictor.js';
import { loadProtos } from './protos.js';
import {
  type EmulatorDelaysInput,
  type EmulatorFaultsInput,
  emulatorDelaysSchema,
  emulatorFaultsSchema,
} from './settings.js';
import { type StorageServer, startStorageServer } from './storage-server.js';
import { createVertexState, type JobRunner, type VertexState } from './vertex-state.js';

/** Options of `startVertexEmulator`. All optional: the defaults suit tests. */
export interface VertexEmulatorOptions {
  /** The gRPC port; 0 (the default) picks a free one. */
  port?: number;
  /** The Cloud Storage JSON API port; 0 (the default) picks a free one. */
  storagePort?: number;
  /** When set, calls for any other project are PERMISSION_DENIED. */
  project?: string;
  /** How long operations and job transitions take (fast by default). */
  delays?: EmulatorDelaysInput;
  /** Faults to inject from the start; `setFaults` changes them later. */
  faults?: EmulatorFaultsInput;
  /** Computes predictions; default: a softmax over each instance's numbers. See `httpPredictor`. */
  predictor?: Predictor;
  /** Runs custom jobs; default: sleeps `delays.jobRunMs`. */
  jobRunner?: JobRunner;
  /**
   * How far Vertex's clock (resource and operation times) runs ahead of (positive) or behind (negative)
   * the machine's, in milliseconds; `setClockSkew` changes it. Default 0.
   */
  clockSkewMs?: number;
  /**
   * ListOperations of an endpoint or model that does not exist (yet, or any more): `listed` (the
   * default) lists the operations on its name, `notFound` answers NOT_FOUND, as AIP-132 asks of a List
   * whose parent is missing (⚠ which of the two Vertex does is not documented).
   */
  missingResourceOperations?: 'listed' | 'notFound';
}

const optionsSchema = z
  .object({
    port: z.number().int().min(0).max(65_535).default(0),
    storagePort: z.number().int().min(0).max(65_535).default(0),
    project: z.string().min(1).optional(),
    delays: emulatorDelaysSchema.default(emulatorDelaysSchema.parse({})),
    faults: emulatorFaultsSchema.default({}),
    predictor: z.custom<Predictor>((value) => typeof value === 'function', 'expected a function').optional(),
    jobRunner: z.custom<JobRunner>((value) => typeof value === 'function', 'expected a function').optional(),
    clockSkewMs: z.number().finite().default(0),
    missingResourceOperations: z.enum(['listed', 'notFound']).default('listed'),
  })
  .strict();

/** A running emulator. */
export interface VertexEmulator {
  /** The host for the Google clients' `apiEndpoint`. */
  apiEndpoint: string;
  /** The gRPC port. */
  port: number;
  /** Insecure channel credentials for loopback (from the same @grpc/grpc-js google-gax uses). */
  sslCreds: ChannelCredentials;
  /** The Cloud Storage JSON API base URL, for `vertex({ storageEndpoint })` or `new Storage({ apiEndpoint })`. */
  storageEndpoint: string;
  /** What the emulator holds, for tests to inspect. */
  state: VertexState;
  /** Objects uploaded to Cloud Storage, `bucket/object` → object. */
  storageObjects: StorageServer['objects'];
  /** Every request received, decoded, oldest first. */
  requests: RecordedRequest[];
  /**
   * What a test harness (mlscale's conformance suite, say) inspects and scripts: the RPC log, faults per
   * RPC, a listener called after each request is carried out, and what is stored per deployment.
   */
  inspection: VertexEmulatorInspection;
  /** Replaces the pending faults. */
  setFaults(faults: EmulatorFaultsInput): void;
  /** Replaces the delays. */
  setDelays(delays: EmulatorDelaysInput): void;
  /** Sets how far Vertex's clock runs ahead of (positive) or behind (negative) the machine's, in ms. */
  setClockSkew(skewMs: number): void;
  /** Adds a Cloud Monitoring sample (CPU utilization, say), as a serving fleet would report it. */
  recordMetric(sample: MetricSample): void;
  /** Stops both servers and every pending timer. */
  close(): Promise<void>;
}

/**
 * Starts a Vertex AI emulator on 127.0.0.1: a gRPC server built from the protos shipped in
 * `@google-cloud/aiplatform`, `@google-cloud/monitoring` and `@google-cloud/logging-api` (ModelService,
 * EndpointService, PredictionService, JobService, google.longrunning.Operations, MetricService,
 * AlertPolicyService, LoggingServiceV2), and a Cloud Storage JSON API server for artifact uploads.
 */
export async function startVertexEmulator(input: VertexEmulatorOptions = {}): Promise<VertexEmulator> {
  const options = parseSpec(optionsSchema, input, 'Vertex emulator options');
  const grpc = await import('@grpc/grpc-js');
  const protos = await loadProtos();
  let counter = 1000;
  const scheduler = createScheduler();
  const context: EmulatorContext = {
    project: options.project,
    protos,
    state: createVertexState(),
    operations: undefined as never,
    metrics: undefined as never,
    logs: undefined as never,
    scheduler,
    clock: createClock(options.clockSkewMs),
    delays: options.delays,
    faults: structuredClone(options.faults),
    predictor: options.predictor ?? softmaxPredictor,
    jobRunner: options.jobRunner ?? sleepingJobRunner(() => context.delays.jobRunMs),
    requests: [],
    methodLog: [],
    listeners: new Set(),
    injectedFaults: createFaultQueue(),
    heldAnswers: [],
    missingResourceOperations: options.missingResourceOperations,
    nextId: () => String(++counter),
  };
  context.operations = createOperationStore(() => context);
  context.metrics = createMetricStore(() => context);
  context.logs = createLogStore(() => context);

  const server = new grpc.Server();
  server.addService(protos.services.endpoint, endpointService(context));
  server.addService(protos.services.model, modelService(context));
  server.addService(protos.services.prediction, predictionService(context));
  server.addService(protos.services.job, jobService(context));
  server.addService(protos.services.operations, context.operations.service());
  server.addService(protos.services.metric, context.metrics.service());
  server.addService(protos.services.alertPolicy, alertPolicyService(context));
  server.addService(protos.services.logging, context.logs.service());
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${options.port}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  let storage: StorageServer;
  try {
    storage = await startStorageServer(options.storagePort);
  } catch (error) {
    server.forceShutdown();
    throw error;
  }

  return {
    apiEndpoint: '127.0.0.1',
    port,
    sslCreds: grpc.credentials.createInsecure(),
    storageEndpoint: storage.url,
    state: context.state,
    storageObjects: storage.objects,
    requests: context.requests,
    inspection: createInspection(context),
    setFaults(faults) {
      context.faults = parseSpec(emulatorFaultsSchema, faults, 'Vertex emulator faults');
    },
    setDelays(delays) {
      context.delays = parseSpec(emulatorDelaysSchema, delays, 'Vertex emulator delays');
    },
    setClockSkew(skewMs) {
      context.clock.setSkew(skewMs);
    },
    recordMetric(sample) {
      context.metrics.record(sample);
    },
    async close() {
      scheduler.close();
      // A graceful shutdown, bounded: clients that keep channels open must not hold close() up.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2_000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      server.forceShutdown();
      await storage.close();
    },
  };
}
