import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../src/config.ts';
import { buildPack } from '../../src/models/build/pack.ts';
import { startServer, type Running } from '../../src/server/serve.ts';

let packPromise: Promise<string> | null = null;

/** The tiny pack, built once per test process into a temp folder (about 2 s). */
export function tinyPack(): Promise<string> {
  packPromise ??= (async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'omni-pack-')), 'tiny');
    await buildPack({ preset: 'tiny', outDir: dir });
    return dir;
  })();
  return packPromise;
}

export const tmpDir = (prefix = 'omni-') => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

export interface TestServer {
  url: string;
  running: Running;
  dataDir: string;
  close(): Promise<void>;
}

/** The real server on a loopback port with the tiny pack and a fresh (or given) data dir. */
export async function startTestServer(env: Record<string, string> = {}, dataDir = tmpDir('omni-data-')): Promise<TestServer> {
  const pack = await tinyPack();
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    OMNISEARCH_MODELS: pack,
    OMNISEARCH_DATA_DIR: dataDir,
    OMNISEARCH_DEMO: 'false',
    OMNISEARCH_THREADS: '1',
    OMNISEARCH_RATE_LIMIT_RPS: '0',
    ...env,
  });
  const running = await startServer(config);
  await running.ready;
  return { url: `http://127.0.0.1:${running.port}`, running, dataDir, close: () => running.close() };
}

/** A flat-colour product photo: enough for the plumbing, honest about being synthetic. */
export function solidPng(color: string, size = 96): Promise<Buffer> {
  return sharp({ create: { width: size, height: size, channels: 3, background: color } }).png().toBuffer();
}

export const SMALL_CATALOG = [
  { id: 'p1', title: 'Nike Air Zoom running shoes', brand: 'nike', category: 'running shoes', color: 'red', price: 79.9, sku: 'NK-AZ-RED', colorHex: '#d01010' },
  { id: 'p2', title: 'Nike Pegasus running shoes', brand: 'nike', category: 'running shoes', color: 'blue', price: 120, sku: 'NK-PG-BLU', colorHex: '#1030d0' },
  { id: 'p3', title: 'Adidas Ultraboost sneakers', brand: 'adidas', category: 'sneakers', color: 'red', price: 150, sku: 'AD-UB-RED', colorHex: '#c02020' },
  { id: 'p4', title: 'Ceramic coffee mug', brand: 'ikea', category: 'mugs', color: 'white', price: 8, sku: 'IK-MUG-WHT', colorHex: '#f4f4f4' },
  { id: 'p5', title: 'Sony WH-1000XM5 wireless headphones', brand: 'sony', category: 'headphones', color: 'black', price: 349, sku: 'WH-1000XM5', colorHex: '#111111' },
  { id: 'p6', title: '李宁 红色 跑鞋', description: '轻便透气的跑步鞋', brand: 'li-ning', category: 'running shoes', color: 'red', price: 60, sku: 'LN-RUN-RED', colorHex: '#e02020' },
  { id: 'p7', title: 'Puma canvas backpack', brand: 'puma', category: 'backpacks', color: 'green', price: 45, sku: 'PM-BP-GRN', colorHex: '#10a030' },
  { id: 'p8', title: 'Casio digital watch', brand: 'casio', category: 'watches', color: 'black', price: 25, sku: 'CS-F91W', colorHex: '#202020' },
];

/** SMALL_CATALOG as API products, each with a base64 PNG in its colour. */
export async function smallCatalogProducts(): Promise<Record<string, unknown>[]> {
  return Promise.all(
    SMALL_CATALOG.map(async ({ colorHex, ...p }) => ({ ...p, currency: 'USD', image: (await solidPng(colorHex)).toString('base64') })),
  );
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: keep the text for the assertion message */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
