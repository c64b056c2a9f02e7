export { gcpDeploymentOptionsSchema, gcpTrainingOptionsSchema } from './provider-options.js';
export { type VertexSettingsInput, vertexSettingsSchema } from './settings.js';
export { vertex, vertexCapabilities } from './vertex.js';
