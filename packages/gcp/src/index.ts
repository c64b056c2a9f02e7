// Types `providerOptions` of specs for this package's backend (declaration merging into @mlscale/core).
import './provider-options-types.js';

export * from './adapter/index.js';
