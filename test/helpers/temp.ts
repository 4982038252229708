// Temp folders for tests, removed when the test file that made them ends: a test run leaves nothing
// behind in the system's temp folder (it used to leave ~70 folders a run).
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

afterAll(() => {
  for (const dir of made.splice(0)) remove(dir);
});

/** A fresh folder under the system's temp folder, named `prefix` and a random suffix. */
export function tempDir(prefix = 'jwtr-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes `dir`, first giving back write access a test may have taken away (a non-root run). */
function remove(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    writable(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

function writable(dir: string): void {
  try {
    chmodSync(dir, 0o700);
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) writable(path);
    }
  } catch {
    // Gone already, or not ours: rmSync reports what is left.
  }
}
