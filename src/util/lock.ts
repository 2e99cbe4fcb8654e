import fs from 'node:fs';
import path from 'node:path';

export class LockedError extends Error {
  override name = 'LockedError';
}

/**
 * One process per data dir: a server and a CLI job writing the same index would each keep their
 * own in-memory graph and overwrite the other's saves. The lock file holds the owner's pid; a lock
 * left by a killed process (pid gone) is taken over.
 */
export function lockDataDir(dir: string, what: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n${what}\n`, { flag: 'wx' });
      return () => {
        if (readOwner(file)?.pid === process.pid) fs.rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readOwner(file);
      if (owner && owner.pid !== process.pid && alive(owner.pid)) {
        throw new LockedError(
          `data dir ${dir} is in use by pid ${owner.pid} (${owner.what}); stop it first, or send the work to its HTTP API (POST /v1/products)`,
        );
      }
      fs.rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  throw new LockedError(`could not lock ${file}`);
}

function readOwner(file: string): { pid: number; what: string } | null {
  try {
    const [pid, what] = fs.readFileSync(file, 'utf8').split('\n');
    return { pid: Number(pid), what: what ?? '' };
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
