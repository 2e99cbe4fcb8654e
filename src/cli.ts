import path from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { OmniError } from './errors.ts';
import { OfflineError } from './models/pull.ts';
import { LockedError } from './util/lock.ts';

const USAGE = `omnisearch <command> [options]

Commands:
  serve                                  serve the API and demo page (same as npm start)
  ingest FILE.jsonl|FILE.csv             embed and upsert products from a file [--batch N]
  models build --preset tiny|full        write a random-weight model pack [--out DIR] [--seed N] [--fp16]
  models pull                            download the real models from the Hugging Face hub [--out DIR]
  train-intent --data FILE.jsonl         train the intent head on labelled queries
                                         [--encoder DIR] [--out DIR] [--seed N] [--epochs N]
  train-fusion --data FILE.jsonl         train the fusion head on (query parts -> product id) pairs
                                         [--out FILE] [--seed N] [--epochs N]
  eval --qrels FILE.jsonl                Recall@k, MRR, nDCG per modality [--out DIR]
  build-web                              build the demo page into dist/web

Configuration comes from the environment (see README): OMNISEARCH_MODELS, OMNISEARCH_DATA_DIR, ...`;

type Handler = (args: string[], config: () => Config) => Promise<void>;

const commands: Record<string, Handler> = {
  async serve(_args, config) {
    const cfg = config();
    const { startServer, WEB_DIR } = await import('./server/serve.ts');
    // The demo page is rebuilt at every start (well under a second), so a checkout never serves a stale one.
    const { buildWeb } = await import('./web/build.ts');
    await buildWeb(WEB_DIR);
    const running = await startServer(cfg, { progress: process.stderr.isTTY, webDir: WEB_DIR });
    const stop = async (signal: string) => {
      process.stderr.write(`\n${signal}: finishing in-flight requests and saving the index...\n`);
      const force = setTimeout(() => process.exit(1), 30_000);
      force.unref();
      await running.close();
      process.exit(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGHUP', () => {
      running.holder.engine?.reloadModels().catch((err) => process.stderr.write(`model reload failed: ${(err as Error).message}\n`));
    });
    await running.ready.catch(() => process.exit(1));
    process.stderr.write(`omnisearch listening on http://localhost:${running.port}\n`);
  },

  async ingest(args, config) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { batch: { type: 'string' } } });
    const file = positionals[0];
    if (!file) throw usage('ingest needs a FILE.jsonl or FILE.csv');
    const cfg = config();
    if (values.batch) cfg.OMNISEARCH_INGEST_BATCH = positiveInt(values.batch, '--batch');
    const { readProductFile } = await import('./catalog/product-file.ts');
    const { products, errors } = readProductFile(file);
    for (const e of errors) process.stderr.write(`line ${e.line}: ${e.message}\n`);
    const { ensurePack } = await import('./models/packs.ts');
    const { Engine } = await import('./engine.ts');
    const engine = await Engine.open(cfg, await ensurePack(cfg, { progress: true }));
    const bar = new cliProgress.SingleBar({ format: ' ingest {bar} {value}/{total} products | {eta_formatted} left' }, cliProgress.Presets.shades_classic);
    bar.start(products.length, 0);
    const res = await engine.upsertProducts(products, (done) => bar.update(done));
    bar.stop();
    await engine.close();
    for (const e of res.errors) process.stderr.write(`${e.id}: ${e.code}: ${e.message}\n`);
    process.stdout.write(`ingested ${res.upserted.length} products; ${res.errors.length + errors.length} failed\n`);
    if (res.upserted.length === 0 && products.length + errors.length > 0) process.exitCode = 1;
  },

  async models(args, config) {
    const [sub, ...rest] = args;
    if (sub === 'build') {
      const { values } = parseArgs({ args: rest, options: { preset: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, fp16: { type: 'boolean' } } });
      if (values.preset !== 'tiny' && values.preset !== 'full') throw usage('models build needs --preset tiny|full');
      const out = path.resolve(values.out ?? path.join(config().modelsDir, values.preset));
      const { buildPack } = await import('./models/build/pack.ts');
      const bar = new cliProgress.SingleBar({ format: ' build {bar} {value}/{total} | {step}' }, cliProgress.Presets.shades_classic);
      bar.start(1, 0, { step: '' });
      const t0 = performance.now();
      await buildPack({
        preset: values.preset, outDir: out, seed: values.seed ? positiveInt(values.seed, '--seed') : 42, fp16: values.fp16 ?? false,
        onProgress: (step, done, total) => { bar.setTotal(total); bar.update(done, { step }); },
      });
      bar.stop();
      process.stdout.write(`wrote ${values.preset} pack to ${out} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      return;
    }
    if (sub === 'pull') {
      const { values } = parseArgs({ args: rest, options: { out: { type: 'string' } } });
      const cfg = config();
      const out = path.resolve(values.out ?? path.join(cfg.modelsDir, 'real'));
      const { pullModels } = await import('./models/pull.ts');
      await pullModels({ endpoint: cfg.OMNISEARCH_HF_ENDPOINT, packDir: out, progress: true });
      const { trainDefaultIntent } = await import('./training/train-intent.ts');
      await trainDefaultIntent(out, { device: cfg.OMNISEARCH_DEVICE, threads: cfg.OMNISEARCH_THREADS }, true);
      process.stdout.write(`pulled the real models into ${out}\n`);
      return;
    }
    throw usage('models needs a subcommand: build | pull');
  },

  async 'train-intent'(args, config) {
    const { runTrainIntentCli } = await import('./training/train-intent.ts');
    await runTrainIntentCli(args, config());
  },

  async 'train-fusion'(args, config) {
    const { runTrainFusionCli } = await import('./training/train-fusion.ts');
    await runTrainFusionCli(args, config());
  },

  async eval(args, config) {
    const { runEvalCli } = await import('./eval/run.ts');
    await runEvalCli(args, config());
  },

  async 'build-web'() {
    const { buildWeb } = await import('./web/build.ts');
    const out = await buildWeb();
    process.stdout.write(`built the demo page into ${out}\n`);
  },
};

class UsageError extends Error {}
const usage = (msg: string) => new UsageError(msg);

export function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw usage(`${name} must be a positive integer, got ${v}`);
  return n;
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const handler = commands[cmd];
  if (!handler) throw usage(`unknown command: ${cmd}`);
  await handler(rest, () => loadConfig());
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) process.stderr.write(`${err.message}\n\n${USAGE}\n`);
  else if (err instanceof ConfigError || err instanceof OfflineError || err instanceof OmniError || err instanceof LockedError) process.stderr.write(`omnisearch: ${(err as Error).message}\n`);
  else process.stderr.write(`omnisearch: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});

