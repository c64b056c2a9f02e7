import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { MlscaleError } from '@mlscale/core';

/** Whether `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1';
  return false;
}

/** Refuses to bind a non-loopback address without a token. */
export function assertSafeBinding(
  host: string,
  token: string | undefined,
  allowUnauthenticated = false,
): void {
  if (isLoopbackHost(host) || token || allowUnauthenticated) return;
  throw new MlscaleError({
    code: 'InvalidSpec',
    provider: 'local',
    message: `Refusing to bind ${host} without a token: any address but loopback needs one (--token, providerOptions.local.token or MLSCALE_TOKEN), so the model is not served to the network unauthenticated. Inside a cloud container behind the platform's own authentication, pass --allow-unauthenticated instead.`,
    issues: [{ path: 'providerOptions.local.token', message: `required when binding ${host}` }],
  });
}

/** Checks an Authorization header against the token in constant time. */
export function createTokenCheck(token: string | undefined): (authorization: string | undefined) => boolean {
  if (!token) return () => true;
  const expected = Buffer.from(`Bearer ${token}`);
  return (authorization) => {
    if (!authorization) return false;
    const given = Buffer.from(authorization);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
}
