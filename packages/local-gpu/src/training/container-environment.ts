import { availableParallelism } from 'node:os';
import type { TrainingJobSpec } from '@mlscale/core';
import type { JobPaths } from './job-paths.js';

/** Where one process sits in the job: which node (host) and which rank. */
export interface ProcessPlacement {
  node: number;
  localRank: number;
  rank: number;
}

/** How many processes a job runs, and how they group into nodes. */
export interface JobTopology {
  nodes: number;
  processesPerNode: number;
  /** True when the job asked for `distribution`: processes then get torchrun's variables. */
  distributed: boolean;
}

/** Nodes × processes: `distribution` when given, else one process per instance (SageMaker's default). */
export function jobTopology(spec: TrainingJobSpec): JobTopology {
  if (spec.distribution) {
    return {
      nodes: spec.distribution.nodes,
      processesPerNode: spec.distribution.processesPerNode,
      distributed: true,
    };
  }
  return { nodes: spec.resources.instanceCount, processesPerNode: 1, distributed: false };
}

/** Every process of a topology, rank order. */
export function placements(topology: JobTopology): ProcessPlacement[] {
  const result: ProcessPlacement[] = [];
  for (let node = 0; node < topology.nodes; node++) {
    for (let localRank = 0; localRank < topology.processesPerNode; localRank++) {
      result.push({ node, localRank, rank: node * topology.processesPerNode + localRank });
    }
  }
  return result;
}

/** SageMaker's host names: algo-1, algo-2, ... */
export function hostName(node: number): string {
  return `algo-${node + 1}`;
}

/** What SageMaker's `resourceconfig.json` holds for a host. */
export function resourceConfig(spec: TrainingJobSpec, topology: JobTopology, node: number) {
  const hosts = Array.from({ length: topology.nodes }, (_, index) => hostName(index));
  const instanceType = spec.resources.instanceType ?? 'local';
  return {
    current_host: hostName(node),
    current_instance_type: instanceType,
    current_group_name: 'homogeneousCluster',
    hosts,
    instance_groups: [{ instance_group_name: 'homogeneousCluster', instance_type: instanceType, hosts }],
    network_interface_name: 'lo',
  };
}

/** What SageMaker's `inputdataconfig.json` holds: one entry per channel. */
export function inputDataConfig(spec: TrainingJobSpec): Record<string, Record<string, string>> {
  const config: Record<string, Record<string, string>> = {};
  for (const [channel, input] of Object.entries(spec.inputs)) {
    config[channel] = {
      TrainingInputMode: 'File',
      S3DistributionType: 'FullyReplicated',
      RecordWrapperType: 'None',
      ...(input.contentType ? { ContentType: input.contentType } : {}),
    };
  }
  return config;
}

/** Inherited variables that belong to the contract: a job started from inside a job must not see its parent's. */
const contractVariable =
  /^(SM_|AIP_|TRAINING_JOB_|MASTER_ADDR$|MASTER_PORT$|RANK$|LOCAL_RANK$|WORLD_SIZE$|LOCAL_WORLD_SIZE$|GROUP_RANK$|NODE_RANK$|GROUP_WORLD_SIZE$|TORCHELASTIC_)/;

export interface EnvironmentInput {
  spec: TrainingJobSpec;
  paths: JobPaths;
  topology: JobTopology;
  placement: ProcessPlacement;
  /** The rendezvous port of this attempt. */
  masterPort: number;
  /** Restarts so far (spot interruptions), as torchrun's TORCHELASTIC_RESTART_COUNT. */
  restartCount: number;
  /** The environment the processes inherit (this program's, by default). */
  inherited?: NodeJS.ProcessEnv;
}

/**
 * The environment the clouds give a training container: SageMaker's training toolkit variables, Vertex
 * AI's `AIP_*`, torchrun's rendezvous variables for distributed jobs, then the job's own `environment`.
 */
export function containerEnvironment(input: EnvironmentInput): Record<string, string> {
  const { spec, paths, topology, placement } = input;
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.inherited ?? process.env)) {
    if (value !== undefined && !contractVariable.test(key)) environment[key] = value;
  }
  Object.assign(environment, spec.environment);

  const channels = Object.keys(spec.inputs).sort();
  const hosts = Array.from({ length: topology.nodes }, (_, index) => hostName(index));
  Object.assign(environment, {
    TRAINING_JOB_NAME: spec.name,
    SM_MODEL_DIR: paths.model,
    SM_INPUT_DIR: paths.input,
    SM_INPUT_CONFIG_DIR: paths.inputConfig,
    SM_OUTPUT_DIR: paths.output,
    SM_OUTPUT_DATA_DIR: paths.outputData,
    SM_CHANNELS: JSON.stringify(channels),
    SM_HPS: JSON.stringify(spec.hyperparameters),
    SM_NUM_GPUS: String(spec.resources.gpus),
    SM_NUM_CPUS: String(availableParallelism()),
    SM_CURRENT_HOST: hostName(placement.node),
    SM_HOSTS: JSON.stringify(hosts),
    SM_CURRENT_INSTANCE_TYPE: spec.resources.instanceType ?? 'local',
    SM_RESOURCE_CONFIG: JSON.stringify(resourceConfig(spec, topology, placement.node)),
    SM_NETWORK_INTERFACE_NAME: 'lo',
    SM_INPUT_DATA_CONFIG: JSON.stringify(inputDataConfig(spec)),
    AIP_MODEL_DIR: `${paths.model}/`,
    AIP_CHECKPOINT_DIR: `${paths.checkpoints}/`,
    AIP_TENSORBOARD_LOG_DIR: `${paths.tensorboard}/`,
  });
  for (const channel of channels) {
    environment[`SM_CHANNEL_${channel.toUpperCase()}`] = `${paths.inputData}/${channel}`;
  }
  for (const [name, value] of Object.entries(spec.hyperparameters)) {
    environment[`SM_HP_${hyperparameterVariableSuffix(name)}`] = String(value);
  }
  if (topology.distributed) {
    Object.assign(environment, {
      MASTER_ADDR: '127.0.0.1',
      MASTER_PORT: String(input.masterPort),
      RANK: String(placement.rank),
      LOCAL_RANK: String(placement.localRank),
      WORLD_SIZE: String(topology.nodes * topology.processesPerNode),
      LOCAL_WORLD_SIZE: String(topology.processesPerNode),
      GROUP_RANK: String(placement.node),
      NODE_RANK: String(placement.node),
      GROUP_WORLD_SIZE: String(topology.nodes),
      TORCHELASTIC_RESTART_COUNT: String(input.restartCount),
      TORCHELASTIC_MAX_RESTARTS: '0',
      TORCHELASTIC_RUN_ID: spec.name,
    });
  }
  return environment;
}

/** `learning-rate` → `LEARNING_RATE`: the toolkit upper-cases the name; characters a variable cannot hold become `_`. */
export function hyperparameterVariableSuffix(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}
