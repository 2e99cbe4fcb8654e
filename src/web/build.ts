import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const SRC = path.dirname(fileURLToPath(import.meta.url));
const STATIC = ['index.html', 'style.css'];

/**
 * Bundles the demo page (src/web/app.ts -> app.js, one ES module for the browser) and copies
 * its static files into `outDir`. Returns the absolute output folder.
 */
export async function buildWeb(outDir = 'dist/web'): Promise<string> {
  const out = path.resolve(outDir);
  await fs.mkdir(out, { recursive: true });
  await build({
    entryPoints: [path.join(SRC, 'app.ts')],
    outfile: path.join(out, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // Browsers from about 2021 on, phones included; nothing here needs polyfills.
    target: ['es2020', 'chrome96', 'firefox95', 'safari15'],
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'silent',
  });
  await Promise.all(STATIC.map((f) => fs.copyFile(path.join(SRC, f), path.join(out, f))));
  return out;
}
