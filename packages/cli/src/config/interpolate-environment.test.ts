import { describe, expect, it } from 'vitest';
import { interpolateEnvironment } from './interpolate-environment.js';

class ChannelCredentials {
  constructor(readonly secure: boolean) {}
  isSecure(): boolean {
    return this.secure;
  }
}

describe('interpolateEnvironment', () => {
  it('replaces references in plain data and keeps class instances untouched', () => {
    const credentials = new ChannelCredentials(false);
    const { value, issues } = interpolateEnvironment(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: mlscale's own ${env:NAME} syntax, not a template
      { backends: { gcp: { port: '${env:PORT}', sslCreds: credentials, when: new Date(0) } } },
      { PORT: '8443' },
    );
    expect(issues).toEqual([]);
    const gcp = (value as { backends: { gcp: { port: string; sslCreds: ChannelCredentials; when: Date } } })
      .backends.gcp;
    expect(gcp.port).toBe('8443');
    expect(gcp.sslCreds).toBe(credentials);
    expect(gcp.sslCreds.isSecure()).toBe(false);
    expect(gcp.when).toBeInstanceOf(Date);
  });
});
