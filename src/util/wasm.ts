// What the project's two hand-assembled WebAssembly modules share (the Teddy prefilter in
// src/detection/teddy-asm.ts and the line counter in src/util/lines.ts): loading a module where
// the runtime can, and the binary encoding of modules and of the instructions both use, each
// helper named as in the text format so that a function body reads as a .wat listing.

/** The part of the WebAssembly API used here (the project's `lib` setting does not declare it). */
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
}

/** The runtime's WebAssembly, or undefined where there is none. */
export const GLOBAL_WASM = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/**
 * The compiled module, or null when the runtime rejects it (e.g. no SIMD): instantiate it as often
 * as needed.
 */
export function compileWasm(wasm: WasmApi, bytes: Uint8Array): object | null {
  try {
    return wasm.validate(bytes) ? new wasm.Module(bytes) : null;
  } catch {
    return null;
  }
}

/** The instance's exports, or null when the runtime rejects the module (e.g. no SIMD). */
export function instantiateWasm(wasm: WasmApi, bytes: Uint8Array): object | null {
  const module = compileWasm(wasm, bytes);
  try {
    return module === null ? null : new wasm.Instance(module).exports;
  } catch {
    return null;
  }
}

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
export const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

export const I32 = 0x7f;
export const I64 = 0x7e;
export const V128 = 0x7b;
export const VOID = 0x40;

export const get = (l: number) => [0x20, ...uleb(l)];
export const set = (l: number) => [0x21, ...uleb(l)];
export const tee = (l: number) => [0x22, ...uleb(l)];
export const i32c = (n: number) => [0x41, ...sleb(n)];
export const simd = (op: number, ...rest: number[]) => [0xfd, ...uleb(op), ...rest];
export const block = [0x02, VOID];
export const loop = [0x03, VOID];
export const end = [0x0b];
export const br = (d: number) => [0x0c, ...uleb(d)];
export const br_if = (d: number) => [0x0d, ...uleb(d)];
