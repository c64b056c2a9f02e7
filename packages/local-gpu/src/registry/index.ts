export { hashArtifact } from './artifact-hash.js';
export {
  createLocalModelRegistry,
  type LocalModelRegistry,
  type LocalModelRegistrySettingsInput,
  localModelRegistrySettingsSchema,
  type RegisterJobModelOptions,
  registerJobModelOptionsSchema,
} from './create-local-model-registry.js';
