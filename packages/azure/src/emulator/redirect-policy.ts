import type { Agent } from 'node:https';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';

/** The name the redirect policy registers under in a pipeline. */
export const emulatorRedirectPolicyName = 'mlscaleAzureEmulatorRedirect';

/** Hosts the emulator stands in for. */
const armHost = 'management.azure.com';
const scoringHostPattern = /^([a-z0-9-]+)\.[a-z0-9-]+\.inference\.ml\.azure\.com$/i;

/**
 * A pipeline policy (add it `perRetry`, after signing) that sends the SDK's ARM and scoring requests to the
 * emulator instead of Azure, over HTTPS with the emulator's own certificate trusted for these requests
 * only: the bearer policy keeps seeing https URLs, and TLS verification stays on everywhere else.
 */
export function createEmulatorRedirectPolicy(emulatorUrl: string, agent: Agent): PipelinePolicy {
  const target = new URL(emulatorUrl);
  return {
    name: emulatorRedirectPolicyName,
    async sendRequest(request, next) {
      const url = new URL(request.url);
      const scoring = scoringHostPattern.exec(url.hostname);
      if (url.hostname.toLowerCase() === armHost) {
        url.protocol = target.protocol;
        url.host = target.host;
      } else if (scoring) {
        url.pathname = `/online-scoring/${scoring[1]}${url.pathname}`;
        url.protocol = target.protocol;
        url.host = target.host;
      } else if (url.host !== target.host) {
        return next(request);
      }
      request.url = url.toString();
      request.agent = agent;
      return next(request);
    },
  };
}
