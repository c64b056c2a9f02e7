/**
 * What a backend can do. The client checks a spec against these before calling the backend, so an
 * unsupported request fails fast with code `Unsupported` naming the capability.
 */
export interface BackendCapabilitiesV1 {
  /** Serverless endpoints (billed per request). */
  serverless: boolean;
  /** Autoscaling down to zero replicas. */
  scaleToZero: boolean;
  /** Target-tracking autoscaling. */
  autoscaling: boolean;
  /** Spot / preemptible training capacity. */
  spot: boolean;
  /** Multi-process or multi-node training. */
  distributed: boolean;
  /** GPU instances or devices. */
  gpu: boolean;
  /** Traffic split between model versions behind one endpoint. */
  trafficSplit: boolean;
  /** Private network placement (subnets, security groups, private endpoints). */
  privateNetworking: boolean;
  /** Customer-managed encryption keys. */
  customerManagedKeys: boolean;
  /** Training jobs. */
  training: boolean;
  /** A model registry. */
  modelRegistry: boolean;
  /** Metrics, logs and alerts. */
  monitoring: boolean;
}

export type BackendCapabilityV1 = keyof BackendCapabilitiesV1;

/** All false: adapters spread this and turn on what they have. */
export const noCapabilitiesV1: BackendCapabilitiesV1 = {
  serverless: false,
  scaleToZero: false,
  autoscaling: false,
  spot: false,
  distributed: false,
  gpu: false,
  trafficSplit: false,
  privateNetworking: false,
  customerManagedKeys: false,
  training: false,
  modelRegistry: false,
  monitoring: false,
};
