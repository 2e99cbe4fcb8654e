import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LockedError, lockDataDir } from '../src/util/lock.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'omni-lock-'));

test('a second process cannot open a data dir in use; the owner releases it', () => {
  const dir = tmp();
  const release = lockDataDir(dir, 'serve');
  // The lock belongs to a live process (this one, seen from a fresh child's point of view).
  fs.writeFileSync(path.join(dir, '.lock'), `${process.ppid}\nserve\n`);
  assert.throws(() => lockDataDir(dir, 'ingest'), (e: unknown) => e instanceof LockedError && /in use by pid/.test(e.message));
  fs.writeFileSync(path.join(dir, '.lock'), `${process.pid}\nserve\n`);
  release();
  assert.ok(!fs.existsSync(path.join(dir, '.lock')));
  lockDataDir(dir, 'ingest')();
});

test('a lock left by a killed process is taken over', () => {
  const dir = tmp();
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  fs.writeFileSync(path.join(dir, '.lock'), `${dead}\nserve\n`);
  const release = lockDataDir(dir, 'serve');
  assert.equal(fs.readFileSync(path.join(dir, '.lock'), 'utf8').split('\n')[0], String(process.pid));
  release();
});
