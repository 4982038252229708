#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072 node --max-semi-space-size=16
// Entry point. Node >= 22.22 runs the TypeScript sources directly (type stripping).
// --max-semi-space-size=16 (MiB): V8 sizes the main thread's young generation from the machine's
// memory, up to 3 x 32 MiB on a 24 GiB machine. A 2-thread scan (the main thread splits, orders and
// writes, and runs engine jobs too) grew into it: a 3 GiB JSONL scan peaked at 254-343 MB; with 16,
// at 216-220 MB, as fast. Worker threads get theirs from the pool (src/batch/pool.ts).
// GLIBC_TUNABLES (glibc only; elsewhere ignored): every malloc of 128 KiB or more gets pages of its
// own, given back when freed. By default glibc raises that threshold once such memory is freed, and
// then keeps the job and output buffers that threads allocate and free by the thousand in its heaps:
// a 2-thread scan of six 315 MB HAR files crept up to 261-265 MB; with it, 250 MB, as fast.
// Started as `node bin/jwt-redactor.js`, the line above is not read: give node the flag (and the
// environment setting) yourself.
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
