/**
 * What a secret looks like, shared by redaction (errors, logs, audit entries) and sealing (the specs
 * backends record): field names that say "secret", and values that carry one whatever their name.
 */

/** Field names whose values are secrets (`API_TOKEN`, `dbPassword`, `accountKey`, ...). */
export const secretFieldName =
  /(secret|token|password|passwd|api[-_]?key|access[-_]?key|account[-_]?key|signature|sas|credential|authorization|connection[-_]?string|private[-_]?key)/i;

/** Secrets inside text, each with the part to keep (`$1`) before the secret itself. */
export const secretsInText: readonly RegExp[] = [
  /(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi,
  /([?&](?:sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|token|key|code|se|sv|skoid|sktid)=)[^&\s"']+/gi,
  /((?:AccountKey|SharedAccessSignature|SharedAccessKey)=)[^;\s"']+/gi,
  // The userinfo of a URL (`postgres://app:PASSWORD@db/...`): the scheme is kept, the credentials go.
  /(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s"']+@/gi,
  // A PEM private key (a TLS key, a service account's key), whole.
  /(-----BEGIN [A-Z ]*PRIVATE KEY-----)[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
];

/** Whether `text` carries a secret that `secretsInText` would mask. */
export function containsSecret(text: string): boolean {
  return secretsInText.some((pattern) => {
    pattern.lastIndex = 0;
    const found = pattern.test(text);
    pattern.lastIndex = 0;
    return found;
  });
}
