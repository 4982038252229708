// `npm run bench`: every benchmark that needs no broker, one after the other, in one process.
// (`npm run bench:kafka` runs the Kafka pipeline benchmark against a broker it starts.)
import { existsSync } from 'node:fs';
import { runEngineBench } from './engine.bench.ts';
import { runFindingPackBench } from './finding-pack.bench.ts';
import { runHostileBench } from './hostile.bench.ts';

await runEngineBench();
await runFindingPackBench();
await runHostileBench();
const scanBench = new URL('./scan.bench.ts', import.meta.url);
if (existsSync(scanBench)) {
  const mod = (await import(scanBench.href)) as { runScanBench?: () => Promise<void> };
  if (mod.runScanBench !== undefined) await mod.runScanBench();
}
