// Writes src/detection/teddy-wasm.ts from the assembler in src/detection/teddy-asm.ts.
// Run: npm run build:wasm   (test/unit/detection/teddy.test.ts fails when the two disagree)
import { writeFileSync } from 'node:fs';
import { teddyWasmModuleText } from '../src/detection/teddy-asm.ts';

const target = new URL('../src/detection/teddy-wasm.ts', import.meta.url);
writeFileSync(target, teddyWasmModuleText());
console.log(`wrote ${target.pathname}`);
