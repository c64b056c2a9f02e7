import type { ServiceError } from '@grpc/grpc-js';
import type { EmulatorContext } from './context.js';
import { statusError } from './grpc-status.js';

/**
 * The refusal of a resource protected by a Cloud KMS key the Vertex AI service agent cannot use (the
 * `unusableEncryptionKeys` fault), or undefined. Vertex accepts such a create and fails its operation.
 * The wording is Vertex's as quoted in hashicorp/terraform-provider-google#11819 (an HTTP 400); ⚠ the
 * gRPC code behind that 400 is not documented: FAILED_PRECONDITION is the emulator's choice.
 */
export function unusableKeyError(
  context: EmulatorContext,
  encryptionSpec: unknown,
): ServiceError | undefined {
  const key = (encryptionSpec as { kmsKeyName?: unknown } | null | undefined)?.kmsKeyName;
  if (typeof key !== 'string' || !context.faults.unusableEncryptionKeys?.includes(key)) return undefined;
  return statusError(
    'FAILED_PRECONDITION',
    `Provided CryptoKey ${key} cannot be used in Vertex AI service. Please make sure the CryptoKey is enabled and Vertex AI service account \`service-${serviceAgentNumber}@gcp-sa-aiplatform.iam.gserviceaccount.com\` has Encryption and Decryption access to the CryptoKey.`,
  );
}

/** The project number in the service agent's address (the emulator knows projects by id only). */
const serviceAgentNumber = '100000000001';
