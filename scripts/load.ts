/**
 * `npm run load`: text search at concurrency 64 for 60 s (bounded; loopback only) against the
 * server in a child process on the tiny pack. Reports status codes, latency percentiles and the
 * server's RSS before and after; fails if any 5xx other than documented 503 back-pressure appears.
 *   npm run load -- --duration 60 --connections 64
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { spawnServer } from './lib/spawn-server.ts';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '60' }, connections: { type: 'string', default: '64' } } });
const duration = Math.min(Number(values.duration), 600);
const connections = Math.min(Number(values.connections), 1024);
const repo = path.resolve(import.meta.dirname, '..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omni-load-'));

const { child, port } = await spawnServer(
  { OMNISEARCH_MODELS: 'tiny', OMNISEARCH_MODELS_DIR: path.join(repo, 'models'), OMNISEARCH_DATA_DIR: dataDir },
  180_000,
);
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

const queries = ['red running shoes', 'blue mug', '80元以下的红色耐克跑鞋', 'black leather handbag under 100 dollars', 'wireless headphones', 'cheap t-shirt', 'adidas sneakers', '白色马克杯'];
const rssBefore = rss();
const codes: Record<string, number> = {};
const bodies503 = new Set<string>();
const result = await autocannon({
  url: `http://127.0.0.1:${port}/v1/search`,
  connections,
  duration,
  requests: queries.map((q) => ({ method: 'POST', path: '/v1/search', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: q, k: 10 }) })),
  setupClient: (client) => {
    client.on('response', (status: number, _bytes: number, _t: number) => {
      codes[status] = (codes[status] ?? 0) + 1;
    });
    client.on('body', (b: Buffer) => {
      const s = b.toString();
      if (s.includes('"error"')) bodies503.add(/"code":"([^"]+)"/.exec(s)?.[1] ?? 'unknown');
    });
  },
});
const rssAfter = rss();
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));

const l = result.latency;
console.log(`\nload: POST /v1/search, ${connections} connections, ${duration} s, tiny pack, ${os.cpus().length} cores\n`);
console.table([{ requests: result.requests.total, 'req/s': Math.round(result.requests.average), 'p50 ms': l.p50, 'p90 ms': l.p90, 'p99 ms': l.p99, 'max ms': l.max, errors: result.errors, timeouts: result.timeouts }]);
console.log('status codes:', codes);
console.log('error codes in bodies:', [...bodies503]);
console.log(`server RSS: ${rssBefore.toFixed(0)} MiB before, ${rssAfter.toFixed(0)} MiB after`);
const unexplained = Object.entries(codes).filter(([c]) => Number(c) >= 500 && !(c === '503' && [...bodies503].every((b) => b === 'queue_full')));
if (unexplained.length || result.errors || result.timeouts) {
  console.error('FAIL: unexplained 5xx, errors or timeouts', unexplained);
  process.exit(1);
}
console.log('OK: no 5xx other than documented 503 back-pressure');
fs.rmSync(dataDir, { recursive: true, force: true });
