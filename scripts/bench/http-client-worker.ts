/**
 * The autocannon client of bench:http, on its own thread: in the server's thread its request
 * building and response parsing would queue behind (and in front of) the server's own work and
 * be counted as HTTP overhead. Each message is one run: { url, bodies } -> per-request ms.
 */
import { parentPort } from 'node:worker_threads';
import autocannon from 'autocannon';

function cannon(url: string, bodies: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    let i = 0;
    const inst = autocannon(
      {
        url: `${url}/v1/search`,
        connections: 1,
        amount: bodies.length,
        duration: 60, // upper bound only: `amount` ends the run
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        requests: [{ setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }) }],
      },
      (err, res) => {
        if (err) return reject(err);
        if (res.non2xx > 0 || res.errors > 0) return reject(new Error(`HTTP run had ${res.non2xx} non-2xx and ${res.errors} errors`));
        resolve(latencies);
      },
    );
    // autocannon's own histogram rounds to whole milliseconds; its response event has hrtime precision.
    inst.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => latencies.push(ms));
  });
}

parentPort!.on('message', (m: { url: string; bodies: string[] }) => {
  cannon(m.url, m.bodies).then(
    (latencies) => parentPort!.postMessage({ latencies }),
    (err: Error) => parentPort!.postMessage({ error: err.message }),
  );
});
