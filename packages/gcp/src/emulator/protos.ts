import { createRequire } from 'node:module';
import type { GrpcObject, ServiceDefinition } from '@grpc/grpc-js';
import type { Root, Type } from 'protobufjs';
import { pruneProtos } from './prune-protos.js';

/**
 * The Vertex AI, Cloud Monitoring and Cloud Logging protos, as shipped inside `@google-cloud/aiplatform`,
 * `@google-cloud/monitoring` and `@google-cloud/logging-api` (`build/protos/protos.json`, self-contained with google.api,
 * google.protobuf and google.longrunning): the wire contract the emulator serves.
 */
export interface LoadedProtos {
  /** Service definitions for `server.addService`. */
  services: {
    endpoint: ServiceDefinition;
    model: ServiceDefinition;
    prediction: ServiceDefinition;
    job: ServiceDefinition;
    operations: ServiceDefinition;
    metric: ServiceDefinition;
    alertPolicy: ServiceDefinition;
    logging: ServiceDefinition;
  };
  /** Encodes a message into the bytes of a `google.protobuf.Any`. */
  packAny(typeName: string, message: Record<string, unknown>): { type_url: string; value: Buffer };
}

const v1 = 'google.cloud.aiplatform.v1';

let loading: Promise<LoadedProtos> | undefined;

/** Loads the protos once per process (parsing them takes about a second). */
export function loadProtos(): Promise<LoadedProtos> {
  loading ??= load();
  return loading;
}

async function load(): Promise<LoadedProtos> {
  const grpc = await import('@grpc/grpc-js');
  const protoLoader = await import('@grpc/proto-loader');
  const protobuf = await import('protobufjs');
  const require = createRequire(import.meta.url);
  const aiplatformJson = require('@google-cloud/aiplatform/build/protos/protos.json') as Record<
    string,
    unknown
  >;
  const monitoringJson = require('@google-cloud/monitoring/build/protos/protos.json') as Record<
    string,
    unknown
  >;
  const loggingJson = require('@google-cloud/logging-api/build/protos/protos.json') as Record<
    string,
    unknown
  >;
  // Strings for enums and 64-bit integers keep handlers free of Long objects and enum numbers.
  const options = { oneofs: true, longs: String, enums: String, defaults: false } as const;
  const root: Root = (protobuf.Root ?? protobuf.default.Root).fromJSON(aiplatformJson);
  const served = ['EndpointService', 'ModelService', 'PredictionService', 'JobService'].map(
    (name) => `${v1}.${name}`,
  );
  const aiplatform = grpc.loadPackageDefinition(
    protoLoader.fromJSON(pruneProtos(root, [...served, 'google.longrunning.Operations'], []), options),
  );
  const monitoring = grpc.loadPackageDefinition(protoLoader.fromJSON(monitoringJson, options));
  const logging = grpc.loadPackageDefinition(protoLoader.fromJSON(loggingJson, options));
  const vertex = lookup(aiplatform, v1);
  const monitoringV3 = lookup(monitoring, 'google.monitoring.v3');
  const types = new Map<string, Type>();
  return {
    services: {
      endpoint: serviceOf(vertex, 'EndpointService'),
      model: serviceOf(vertex, 'ModelService'),
      prediction: serviceOf(vertex, 'PredictionService'),
      job: serviceOf(vertex, 'JobService'),
      operations: serviceOf(lookup(aiplatform, 'google.longrunning'), 'Operations'),
      metric: serviceOf(monitoringV3, 'MetricService'),
      alertPolicy: serviceOf(monitoringV3, 'AlertPolicyService'),
      logging: serviceOf(lookup(logging, 'google.logging.v2'), 'LoggingServiceV2'),
    },
    packAny(typeName, message) {
      let type = types.get(typeName);
      if (!type) {
        type = root.lookupType(typeName);
        types.set(typeName, type);
      }
      const value = Buffer.from(type.encode(type.fromObject(message)).finish());
      // The shipped protos.json keeps Any's field as `type_url`: under `typeUrl` it would be sent empty.
      return { type_url: `type.googleapis.com/${typeName}`, value };
    },
  };
}

function lookup(object: GrpcObject, path: string): GrpcObject {
  let current: unknown = object;
  for (const part of path.split('.')) current = (current as Record<string, unknown>)[part];
  return current as GrpcObject;
}

function serviceOf(namespace: GrpcObject, name: string): ServiceDefinition {
  const serviceClass = namespace[name] as { service?: ServiceDefinition } | undefined;
  if (!serviceClass?.service) throw new Error(`the protos have no service ${name}`);
  return serviceClass.service;
}
