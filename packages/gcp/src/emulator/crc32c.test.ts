import { describe, expect, it } from 'vitest';
import { crc32cBase64 } from './crc32c.js';

describe('crc32c', () => {
  it('matches the Castagnoli check value', () => {
    // CRC-32C("123456789") = 0xE3069283.
    expect(Buffer.from(crc32cBase64(Buffer.from('123456789')), 'base64').toString('hex')).toBe('e3069283');
    expect(crc32cBase64(Buffer.alloc(0))).toBe('AAAAAA==');
  });
});
