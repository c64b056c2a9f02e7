import type { AccessToken, TokenCredential } from '@azure/core-auth';

/**
 * A token credential for the emulator: it hands out a fixed opaque token, so tests need neither
 * `@azure/identity` nor a tenant. The emulator accepts any bearer token on its ARM routes.
 */
export function createStubCredential(token = 'mlscale-emulator-token'): TokenCredential {
  return {
    async getToken(): Promise<AccessToken> {
      return { token, expiresOnTimestamp: Date.now() + 60 * 60_000 };
    },
  };
}
