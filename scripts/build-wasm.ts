// Writes the committed WebAssembly modules: src/detection/teddy-wasm.ts from the assembler in
// src/detection/teddy-asm.ts, and src/batch/json-skip-wasm.ts from src/batch/json-skip.wat (with
// wabt). Run: npm run build:wasm   (test/unit/detection/teddy.test.ts and
// test/unit/batch/json-skip.test.ts fail when a committed module and its source disagree)
import { writeFileSync } from 'node:fs';
import { teddyWasmModuleText } from '../src/detection/teddy-asm.ts';
import { jsonSkipWasmModuleText } from './json-skip-build.ts';

for (const [path, text] of [
  ['../src/detection/teddy-wasm.ts', teddyWasmModuleText()],
  ['../src/batch/json-skip-wasm.ts', await jsonSkipWasmModuleText()],
] as const) {
  const target = new URL(path, import.meta.url);
  writeFileSync(target, text);
  console.log(`wrote ${target.pathname}`);
}
