import { describe, expect, it } from 'vitest';
import { redact, redactText } from './redact.js';

describe('redact', () => {
  it('masks secret-named fields at any depth', () => {
    const result = redact({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIA123', secretAccessKey: 'abc' },
      nested: [{ apiKey: 'k', name: 'x' }],
      headers: { Authorization: 'Bearer xyz' },
    });
    expect(result).toEqual({
      region: 'eu-west-1',
      credentials: '[redacted]',
      nested: [{ apiKey: '[redacted]', name: 'x' }],
      headers: { Authorization: '[redacted]' },
    });
  });

  it('masks bearer tokens, SAS signatures, presigned URLs and account keys in text', () => {
    const text = redactText(
      'GET https://acct.blob.core.windows.net/c/b?sv=2024-01-01&sig=abcDEF%2B123&se=2026 with Bearer eyJhbGciOi.x.y; ' +
        'https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F&X-Amz-Signature=deadbeef; AccountKey=Eby8vdM02xNO==;',
    );
    expect(text).not.toMatch(/abcDEF|eyJhbGciOi|deadbeef|Eby8vdM02xNO|AKIA/);
    expect(text).toContain('sig=[redacted]');
  });

  it('keeps sealed values (keyed hashes, not secrets)', () => {
    const sealed = 'sealed:hmac-sha256:Q2hhbmdlZCBzZWNyZXRzIHNob3cgdXA';
    expect(redact({ API_TOKEN: sealed, PASSWORD: 'hunter2' })).toEqual({
      API_TOKEN: sealed,
      PASSWORD: '[redacted]',
    });
  });

  it('keeps dates and survives cycles', () => {
    const date = new Date(0);
    const value: Record<string, unknown> = { date };
    value.self = value;
    const result = redact(value) as Record<string, unknown>;
    expect(result.date).toBe(date);
    expect(result.self).toBe('[circular]');
  });
});
