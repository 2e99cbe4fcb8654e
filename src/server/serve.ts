import path from 'node:path';
import fs from 'node:fs';
import { serve as honoServe, type ServerType } from '@hono/node-server';
import cliProgress from 'cli-progress';
import type { Config } from '../config.ts';
import { Engine } from '../engine.ts';
import { log } from '../log.ts';
import { ensurePack } from '../models/packs.ts';
import { productInput } from '../catalog/types.ts';
import { attachMetrics, createApp, type EngineHolder } from './app.ts';

export interface Running {
  server: ServerType;
  port: number;
  holder: EngineHolder;
  ready: Promise<Engine>;
  close(): Promise<void>;
}

export const WEB_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../dist/web');

/**
 * `npm start`: make sure the models exist (build or pull; failing here exits non-zero), then
 * listen at once so /healthz answers while models load and the demo catalog ingests.
 */
export async function startServer(config: Config, opts: { progress?: boolean; webDir?: string } = {}): Promise<Running> {
  const packDir = await ensurePack(config, { progress: opts.progress ?? false });
  const holder: EngineHolder = { engine: null, state: 'starting' };
  const { app, metrics } = createApp({ holder, config, webDir: opts.webDir ?? (fs.existsSync(WEB_DIR) ? WEB_DIR : undefined) });

  const server = await new Promise<ServerType>((resolve) => {
    const s = honoServe({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, () => resolve(s));
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.PORT;
  log.info({ port, host: config.HOST }, 'listening');

  const ready = (async () => {
    try {
      const engine = await Engine.open(config, packDir);
      attachMetrics(engine, metrics);
      if (config.OMNISEARCH_DEMO && engine.store.count() === 0) await ingestDemo(engine, opts.progress ?? false);
      holder.engine = engine;
      holder.state = 'ready';
      log.info({ port, products: engine.store.count() }, 'ready');
      return engine;
    } catch (err) {
      holder.state = 'failed';
      holder.detail = (err as Error).message;
      log.error({ err }, 'engine failed to start');
      throw err;
    }
  })();

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      // Stop accepting, let in-flight requests finish, then persist.
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const engine = await ready.catch(() => null);
      await engine?.close();
    })());
  return { server, port, holder, ready, close };
}

async function ingestDemo(engine: Engine, progress: boolean): Promise<void> {
  log.info('empty catalog: generating and ingesting the demo catalog');
  const { generateDemoCatalog } = await import('../catalog/demo.ts'); // only needed on a first start
  const raw = await generateDemoCatalog({ imageRoot: engine.config.imageRoot });
  const products = raw.map((p) => productInput.parse(p));
  const bar = progress ? new cliProgress.SingleBar({ format: ' demo catalog {bar} {value}/{total} products' }, cliProgress.Presets.shades_classic) : null;
  bar?.start(products.length, 0);
  const res = await engine.upsertProducts(products, (done) => bar?.update(done));
  bar?.stop();
  await engine.saveIndex();
  if (res.errors.length) log.warn({ errors: res.errors.slice(0, 5) }, `${res.errors.length} demo products failed`);
  log.info({ products: res.upserted.length }, 'demo catalog ingested');
}
