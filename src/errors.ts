/**
 * The one error type that crosses module boundaries. HTTP maps `status` and `code`
 * straight into `{error: {code, message}}`; the CLI prints `message` and exits non-zero.
 */
export class OmniError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'OmniError';
  }
}

export const badRequest = (code: string, message: string, details?: unknown) => new OmniError(400, code, message, details);
export const notFound = (code: string, message: string) => new OmniError(404, code, message);
export const tooLarge = (code: string, message: string) => new OmniError(413, code, message);
export const unsupportedMedia = (code: string, message: string) => new OmniError(415, code, message);
export const unprocessable = (code: string, message: string, details?: unknown) => new OmniError(422, code, message, details);
export const unavailable = (code: string, message: string, retryAfterS = 1) =>
  new OmniError(503, code, message, undefined, { 'Retry-After': String(retryAfterS) });
