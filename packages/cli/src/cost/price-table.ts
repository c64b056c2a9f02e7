/** One cloud's prices in the shipped table. */
export interface ProviderPrices {
  /** Where the figures come from. */
  source: string;
  /** The region they are for. */
  region: string;
  /** USD per hour per instance (node) of each type, on demand. */
  instances: Record<string, number>;
  /** USD per hour per accelerator, where the cloud bills GPUs apart from the machine (Vertex AI). */
  accelerators?: Record<string, number>;
  /** Share of the on-demand price paid on spot / low-priority / preemptible capacity (0.3 = 70% off). */
  spotFactor: number;
  /** Serverless inference: USD per GB of memory per second of processing. */
  serverlessPerGbSecond?: number;
}

/** The shipped table: dated, with its sources, overridable by the user (`pricing:` in the file, or `--prices`). */
export interface PriceTable {
  /** The day the figures were compiled (ISO date). */
  date: string;
  currency: 'USD';
  note: string;
  providers: Record<'aws' | 'azure' | 'gcp', ProviderPrices>;
}

/**
 * List prices for the common ML instance types. Compiled on the date below from the providers' public
 * pricing pages as previously published (this build machine has no network to re-check them); prices
 * change and vary by region, so treat the figures as estimates and override them for budgeting.
 */
export const priceTable: PriceTable = {
  date: '2026-11-29',
  currency: 'USD',
  note: 'On-demand list prices, one region per cloud; estimates only. Override with `pricing:` in the config or --prices FILE.',
  providers: {
    aws: {
      source: 'Amazon SageMaker AI pricing, real-time inference, https://aws.amazon.com/sagemaker/pricing/',
      region: 'us-east-1',
      instances: {
        'ml.t2.medium': 0.056,
        'ml.m5.large': 0.115,
        'ml.m5.xlarge': 0.23,
        'ml.m5.2xlarge': 0.461,
        'ml.m5.4xlarge': 0.922,
        'ml.c5.large': 0.102,
        'ml.c5.xlarge': 0.204,
        'ml.c5.2xlarge': 0.408,
        'ml.g4dn.xlarge': 0.736,
        'ml.g4dn.2xlarge': 0.94,
        'ml.g5.xlarge': 1.408,
        'ml.g5.2xlarge': 1.515,
        'ml.g5.4xlarge': 2.03,
        'ml.g5.12xlarge': 7.09,
        'ml.p3.2xlarge': 3.825,
        'ml.p4d.24xlarge': 37.688,
        'ml.inf2.xlarge': 0.99,
      },
      // Managed spot training: AWS quotes "up to 90%" savings; 70% is a typical figure.
      spotFactor: 0.3,
      // Serverless inference bills memory × processing time: $0.00002 per second at 1 GB.
      serverlessPerGbSecond: 0.00002,
    },
    azure: {
      source:
        'Azure Machine Learning pricing (VM price of managed online endpoints and compute), https://azure.microsoft.com/pricing/details/machine-learning/',
      region: 'eastus',
      instances: {
        Standard_DS2_v2: 0.146,
        Standard_DS3_v2: 0.293,
        Standard_DS4_v2: 0.585,
        Standard_F4s_v2: 0.169,
        Standard_F8s_v2: 0.338,
        Standard_E4s_v3: 0.252,
        Standard_NC4as_T4_v3: 0.526,
        Standard_NC8as_T4_v3: 0.752,
        Standard_NC6s_v3: 3.06,
        Standard_NC24ads_A100_v4: 3.673,
        Standard_ND96asr_v4: 27.197,
      },
      // Low-priority VMs: about 80% off.
      spotFactor: 0.2,
    },
    gcp: {
      source:
        'Vertex AI pricing (prediction and custom training, per node hour; GPUs billed apart), https://cloud.google.com/vertex-ai/pricing',
      region: 'us-central1',
      instances: {
        'e2-standard-2': 0.0771,
        'e2-standard-4': 0.1541,
        'e2-standard-8': 0.3082,
        'n1-standard-2': 0.1095,
        'n1-standard-4': 0.219,
        'n1-standard-8': 0.438,
        'n1-standard-16': 0.876,
        'n1-highmem-2': 0.1363,
        'g2-standard-4': 0.8497,
        'a2-highgpu-1g': 4.2245,
      },
      accelerators: {
        'nvidia-tesla-t4': 0.4025,
        'nvidia-l4': 0.672,
        'nvidia-tesla-v100': 2.852,
        'nvidia-tesla-a100': 3.3741,
      },
      // Spot VMs for custom training: 60–91% off; 65% is used here.
      spotFactor: 0.35,
    },
  },
};
