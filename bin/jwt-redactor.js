#!/usr/bin/env -S node --max-semi-space-size=16
// Entry point. Node >= 22.22 runs the TypeScript sources directly (type stripping).
// --max-semi-space-size=16 (MiB): V8 sizes the main thread's young generation from the machine's
// memory, up to 3 x 32 MiB on a 24 GiB machine. A 2-thread scan (the main thread splits, orders and
// writes, and runs engine jobs too) grew into it: a 3 GiB JSONL scan peaked at 254-343 MB; with 16,
// at 216-220 MB, as fast. Worker threads get theirs from the pool (src/batch/pool.ts). Started as
// `node bin/jwt-redactor.js`, the line above is not read: give the flag to node yourself.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 22)) {
  process.stderr.write(
    `jwt-redactor needs Node.js >= 22.22 (this is ${process.versions.node}); source .ci/node-env.sh to get Node 24\n`,
  );
  process.exit(2);
}
// Before the sources load: V8's code for them from a private on-disk cache (src/util/compile-cache.ts).
const { enableCompileCache } = await import('../src/util/compile-cache.ts');
enableCompileCache();
const { run } = await import('../src/cli/run.ts');
await run();
