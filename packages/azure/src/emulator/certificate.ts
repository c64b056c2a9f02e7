/** A certificate and its key, PEM encoded. */
export interface SelfSignedCertificate {
  /** The certificate; clients trust it through an https agent's `ca`. */
  certificate: string;
  /** The private key; it never leaves the emulator. */
  privateKey: string;
}

/**
 * A fresh self-signed certificate for 127.0.0.1 and localhost, made at start so no key is ever checked
 * in. EC P-256 keeps generation fast.
 */
export async function generateLoopbackCertificate(): Promise<SelfSignedCertificate> {
  const { generate } = await import('selfsigned');
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(Date.now() + 7 * 24 * 60 * 60_000);
  const generated = await generate([{ name: 'commonName', value: 'mlscale-azure-emulator' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { certificate: generated.cert, privateKey: generated.private };
}
