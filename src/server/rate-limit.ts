import type { MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { OmniError } from '../errors.ts';
import { findKey, type KeyRing } from './auth.ts';

/**
 * Token bucket per client: `rps` tokens per second up to `burst`. The client is the API key when
 * one is presented, else the peer IP (X-Forwarded-For only when the proxy is trusted). Buckets
 * idle long enough to be full again are dropped, so memory follows active clients only.
 */
export function rateLimit(opts: { rps: number; burst: number; ring: KeyRing; trustProxy: boolean; now?: () => number }): MiddlewareHandler {
  const now = opts.now ?? (() => performance.now() / 1000);
  const buckets = new Map<string, { tokens: number; at: number }>();
  let lastSweep = now();
  return async (c, next) => {
    if (opts.rps <= 0) return next();
    const t = now();
    if (t - lastSweep > 60) {
      for (const [k, b] of buckets) if (b.tokens + (t - b.at) * opts.rps >= opts.burst) buckets.delete(k);
      lastSweep = t;
    }
    const client = clientOf(c, opts);
    const b = buckets.get(client) ?? { tokens: opts.burst, at: t };
    b.tokens = Math.min(opts.burst, b.tokens + (t - b.at) * opts.rps);
    b.at = t;
    if (b.tokens < 1) {
      buckets.set(client, b);
      const wait = Math.max(1, Math.ceil((1 - b.tokens) / opts.rps));
      throw new OmniError(429, 'rate_limited', `too many requests; retry in ${wait} s`, undefined, { 'Retry-After': String(wait) });
    }
    b.tokens -= 1;
    buckets.set(client, b);
    await next();
  };
}

function clientOf(c: Parameters<MiddlewareHandler>[0], opts: { ring: KeyRing; trustProxy: boolean }): string {
  const m = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
  const key = m ? findKey(opts.ring, m[1]) : undefined;
  if (key) return `key:${key.id}`;
  if (opts.trustProxy) {
    const fwd = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (fwd) return `ip:${fwd}`;
  }
  try {
    return `ip:${getConnInfo(c).remote.address ?? 'unknown'}`;
  } catch {
    return 'ip:unknown'; // app.request() in tests has no socket
  }
}
