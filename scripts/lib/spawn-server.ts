import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bin/omnisearch.js');

/**
 * `omnisearch serve` in a child process (so it can be SIGKILLed or measured from outside), on a
 * loopback port chosen by the OS; resolves once its log says it listens and is ready.
 */
export async function spawnServer(env: Record<string, string>, timeoutMs = 60_000): Promise<{ child: ChildProcess; port: number; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', OMNISEARCH_RATE_LIMIT_RPS: '0', LOG_LEVEL: 'info', NODE_ENV: '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server not ready in ${timeoutMs / 1000} s:\n${log.slice(-2000)}`)), timeoutMs);
    child.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      const listening = /"port":(\d+)[^\n]*"msg":"listening"/.exec(log);
      if (listening && /"msg":"ready"/.test(log)) {
        clearTimeout(timer);
        resolve(Number(listening[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${log.slice(-2000)}`)));
  });
  return { child, port, url: `http://127.0.0.1:${port}` };
}
