/**
 * `npm run bench`: every benchmark in turn, each in its own process (native memory and thread
 * pools do not carry over from one to the next), then every goal line again and the total time.
 * Extra arguments (e.g. --large) go to bench:ann.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { machine } from './lib.ts';

const BENCHES = ['http', 'batching', 'naive', 'whisper', 'ingest', 'ann', 'recovery'];

function run(name: string, args: string[]): Promise<{ code: number; goals: string[] }> {
  return new Promise((resolve) => {
    const file = path.join(path.dirname(new URL(import.meta.url).pathname), `${name}.ts`);
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { LOG_LEVEL: 'warn', ...process.env } });
    const goals: string[] = [];
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      process.stdout.write(d);
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      goals.push(...lines.filter((l) => l.startsWith('GOAL ')));
    });
    child.on('close', (code) => resolve({ code: code ?? 1, goals }));
  });
}

const t0 = performance.now();
const summary: string[] = [];
let failed = 0;
for (const name of BENCHES) {
  const t = performance.now();
  const { code, goals } = await run(name, name === 'ann' ? process.argv.slice(2) : []);
  const s = ((performance.now() - t) / 1000).toFixed(0);
  if (code !== 0) {
    failed++;
    summary.push(`FAILED  bench:${name} exited with ${code} after ${s} s`);
  }
  summary.push(...goals, `        (bench:${name} took ${s} s)`);
}
console.log(`\n=== summary (${machine()}) ===`);
for (const l of summary) console.log(l);
console.log(`total ${((performance.now() - t0) / 60000).toFixed(1)} min`);
process.exitCode = failed ? 1 : 0;
