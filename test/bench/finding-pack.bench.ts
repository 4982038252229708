// What moving findings from a worker thread to the pool costs, per finding (batch/finding-pack.ts):
// packing on the worker, the structured clone of the message (serialized there, deserialized here;
// v8.serialize/deserialize, which postMessage uses), and unpacking into findings again. The findings
// are the real engine's for one 1 MiB block of the scan bench's JSONL export (a token in 2 lines of
// 100, 3 distinct tokens: most of a finding is its token's analysis). Baseline in the same run: the
// findings cloned as they are, which is what a worker would send without packing.
// Run: node test/bench/finding-pack.bench.ts   (ROUNDS=2000)
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { FindingPacker, FindingUnpacker } from '../../src/batch/finding-pack.ts';
import type { AnyFinding } from '../../src/model.ts';
import { engineFromConfig } from '../../src/pipeline/index.ts';
import { jsonlLine, tokens } from './scan.bench.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 2000);

async function blockFindings(): Promise<AnyFinding[]> {
  const toks = await tokens();
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < 1024 * 1024; i++) {
    const line = jsonlLine(i, toks);
    if (size + line.length > 1024 * 1024) break;
    lines.push(line);
    size += line.length;
  }
  const engine = await engineFromConfig({
    policies: ['default'],
    ruleFiles: [],
    key: randomBytes(32),
    keyId: 'bench',
    ephemeralKey: true,
  });
  const r = await engine.processLines(Buffer.from(lines.join('')), {
    kind: 'file',
    name: 'export.jsonl',
    line: 1,
  });
  return r.findings;
}

/** Microseconds per finding of `fn` run ROUNDS times (after ROUNDS/10 untimed). */
function timed(findings: number, fn: () => void): number {
  for (let i = 0; i < ROUNDS / 10; i++) fn();
  const t = performance.now();
  for (let i = 0; i < ROUNDS; i++) fn();
  return ((performance.now() - t) * 1000) / (ROUNDS * findings);
}

export async function runFindingPackBench(): Promise<void> {
  const findings = await blockFindings();
  const n = findings.length;
  // Packed: templates go in the first message; the timed rounds are the steady state after it.
  const packer = new FindingPacker();
  const unpacker = new FindingUnpacker();
  unpacker.unpack(deserialize(serialize(packer.pack(findings))));
  const packed = packer.pack(findings);
  const wire = serialize(packed);
  const back = deserialize(wire);
  if (JSON.stringify(unpacker.unpack(back)) !== JSON.stringify(findings))
    throw new Error('findings differ after a round trip');
  const pack = timed(n, () => packer.pack(findings));
  const ser = timed(n, () => serialize(packed));
  const de = timed(n, () => deserialize(wire));
  const unpack = timed(n, () => unpacker.unpack(back));
  // Baseline: the findings as they are.
  const plain = serialize(findings);
  const plainSer = timed(n, () => serialize(findings));
  const plainDe = timed(n, () => deserialize(plain));
  const total = pack + ser + de + unpack;
  const plainTotal = plainSer + plainDe;
  process.stdout.write(
    `\nfindings from a worker (${n} findings of a 1 MiB JSONL block, ${ROUNDS} rounds), us per finding\n` +
      `packed     pack ${pack.toFixed(2)}  serialize ${ser.toFixed(2)}  deserialize ${de.toFixed(2)}  unpack ${unpack.toFixed(2)}  total ${total.toFixed(2)}  ${(wire.length / n).toFixed(0)} bytes\n` +
      `as they are                serialize ${plainSer.toFixed(2)}  deserialize ${plainDe.toFixed(2)}                total ${plainTotal.toFixed(2)}  ${(plain.length / n).toFixed(0)} bytes\n` +
      `packed: ${(plainTotal / total).toFixed(2)}x as fast, ${(plain.length / wire.length).toFixed(1)}x smaller\n`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runFindingPackBench();
