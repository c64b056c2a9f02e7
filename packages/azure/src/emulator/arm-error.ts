/**
 * An error the emulator answers with, in ARM's shape: `{ "error": { "code", "message" } }` and the status
 * code Azure uses for it.
 */
export class ArmError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  /** The response body. */
  toBody(): { error: { code: string; message: string; details: [] } } {
    return { error: { code: this.code, message: this.message, details: [] } };
  }
}

/** 404 in ARM's words. */
export function resourceNotFound(kind: string, name: string): ArmError {
  return new ArmError(404, 'ResourceNotFound', `The ${kind} '${name}' was not found.`);
}

/** 400 for a request body that does not fit. */
export function badArgument(message: string): ArmError {
  return new ArmError(400, 'BadArgument', message);
}
