import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ZodError } from 'zod';
import { OmniError } from '../errors.ts';
import { log } from '../log.ts';

export function errorResponse(c: Context, status: number, code: string, message: string, details?: unknown, headers?: Record<string, string>) {
  for (const [k, v] of Object.entries(headers ?? {})) c.header(k, v);
  return c.json({ error: { code, message, ...(details === undefined ? {} : { details }) } }, status as ContentfulStatusCode);
}

export function zodDetails(err: ZodError) {
  return err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

/** Every failure leaves as `{error: {code, message}}`; only unexpected ones are 500 and logged with a stack. */
export function onError(err: Error, c: Context) {
  if (err instanceof OmniError) return errorResponse(c, err.status, err.code, err.message, err.details, err.headers);
  if (err instanceof ZodError) return errorResponse(c, 400, 'invalid_request', 'request failed validation', zodDetails(err));
  if (err instanceof HTTPException) {
    const s = err.status;
    if (s === 400 && /json/i.test(err.message)) return errorResponse(c, 400, 'malformed_json', 'request body is not valid JSON');
    if (s === 400) return errorResponse(c, 400, 'malformed_body', err.message || 'request body could not be parsed');
    if (s === 413) return errorResponse(c, 413, 'body_too_large', err.message || 'request body too large');
    if (s === 415) return errorResponse(c, 415, 'unsupported_content_type', 'send application/json or multipart/form-data as the route documents');
    return errorResponse(c, s, `http_${s}`, err.message || 'request failed');
  }
  log.error({ err, path: c.req.path, reqId: c.get('requestId' as never) }, 'unhandled error');
  return errorResponse(c, 500, 'internal_error', 'internal error; see the server log for the request id');
}
