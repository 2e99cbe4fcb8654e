import crypto from 'node:crypto';
import fs from 'node:fs';
import type { MiddlewareHandler } from 'hono';
import type { Config } from '../config.ts';
import { OmniError } from '../errors.ts';

export type Scope = 'admin' | 'search';

export interface KeyRing {
  keys: { key: Buffer; scope: Scope; id: string }[];
  /** No keys configured: every route open (dev mode). */
  open: boolean;
}

export function loadKeys(config: Config): KeyRing {
  const entries: { key: string; scope: Scope }[] = [];
  const split = (s: string) => s.split(',').map((k) => k.trim()).filter(Boolean);
  for (const k of split(config.OMNISEARCH_ADMIN_KEYS)) entries.push({ key: k, scope: 'admin' });
  for (const k of split(config.OMNISEARCH_SEARCH_KEYS)) entries.push({ key: k, scope: 'search' });
  if (config.OMNISEARCH_KEY_FILE) {
    const lines = fs.readFileSync(config.OMNISEARCH_KEY_FILE, 'utf8').split(/\r?\n/);
    lines.forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith('#')) return;
      const m = /^(admin|search):(\S+)$/.exec(line);
      if (!m) throw new Error(`${config.OMNISEARCH_KEY_FILE}:${i + 1}: expected "admin:<key>" or "search:<key>"`);
      entries.push({ key: m[2], scope: m[1] as Scope });
    });
  }
  for (const e of entries) if (e.key.length < 16) throw new Error(`API keys must be at least 16 characters (a ${e.scope} key is shorter)`);
  return {
    open: entries.length === 0,
    // The id (a hash prefix) names a key in logs and rate-limit buckets without revealing it.
    keys: entries.map((e) => ({ key: digest(e.key), scope: e.scope, id: digest(e.key).toString('hex').slice(0, 12) })),
  };
}

// Comparing fixed-length digests with timingSafeEqual keeps the comparison constant-time even when lengths differ.
const digest = (k: string) => crypto.createHash('sha256').update(k).digest();

export function findKey(ring: KeyRing, presented: string): KeyRing['keys'][number] | undefined {
  const d = digest(presented);
  let found: KeyRing['keys'][number] | undefined;
  for (const k of ring.keys) if (crypto.timingSafeEqual(k.key, d)) found = k; // no early exit
  return found;
}

/**
 * `requireScope('search')` admits search and admin keys; `requireScope('admin')` only admin keys.
 * Missing or unknown key -> 401, known key without the scope -> 403.
 */
export function requireScope(ring: KeyRing, scope: Scope): MiddlewareHandler {
  return async (c, next) => {
    if (ring.open) return next();
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new OmniError(401, 'unauthorized', 'send an API key as "Authorization: Bearer <key>"', undefined, { 'WWW-Authenticate': 'Bearer' });
    const key = findKey(ring, m[1]);
    if (!key) throw new OmniError(401, 'unauthorized', 'unknown API key', undefined, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    if (scope === 'admin' && key.scope !== 'admin') throw new OmniError(403, 'forbidden', 'this key may only search; writes need an admin key');
    c.set('apiKeyId' as never, key.id as never);
    await next();
  };
}
