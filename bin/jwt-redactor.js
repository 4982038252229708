#!/usr/bin/env node
// Entry point. Node >= 22.22 runs the TypeScript sources directly (type stripping).
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
