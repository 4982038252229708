// The splitter's fast path in WebAssembly (json-skip.wat): the bytes the splitter holds live in the
// module's memory, so that passing over a complete container is one call with no copy. Where the
// runtime has no WebAssembly SIMD, `WasmSkip.acquire` returns undefined and the splitter walks the
// containers itself, as it does when the module says FALL_BACK.
import { compileWasm, GLOBAL_WASM, type WasmApi } from '../util/wasm.ts';
import { JSON_SKIP_WASM } from './json-skip-wasm.ts';
import type { HarBodySpan } from './json-splitter.ts';

/** Where json-skip.wat keeps what it reports (see its memory map). */
const BODIES = 4096;
const RESULT = 8192;
const DATA = 16384;
/** Bytes the module may read past the last byte it scans (its 8-byte key loads). */
const PAD = 16;
const PAGE = 65536;

/** skip's answer when it leaves the container to the caller's own walk. */
export const FALL_BACK = -2;

interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  skip(start: number, end: number, har: number): number;
}

let compiled: object | null | undefined;

/**
 * Instances given back by splitters that ended, for the next ones: a folder of small JSON files
 * would otherwise make a module instance and its memory per file (and each memory reserves address
 * space until it is collected). Only a few, and none whose memory grew past FREE_MAX_BYTES.
 */
const free: WasmSkip[] = [];
const FREE_MAX = 4;
const FREE_MAX_BYTES = 16 * 1024 * 1024;

function instantiate(wasm: WasmApi): Exports | null {
  // Compiled once per thread; null (the runtime refused it) is kept too.
  if (compiled === undefined) compiled = compileWasm(wasm, Buffer.from(JSON_SKIP_WASM, 'base64'));
  if (compiled === null) return null;
  return new wasm.Instance(compiled).exports as Exports;
}

export class WasmSkip {
  private readonly exports: Exports;
  private words: Int32Array;

  private constructor(exports: Exports) {
    this.exports = exports;
    this.words = new Int32Array(exports.memory.buffer, 0, DATA / 4);
  }

  /** A new instance (it owns the memory the held bytes are in); undefined without WebAssembly SIMD. */
  static create(wasm: WasmApi | undefined = GLOBAL_WASM): WasmSkip | undefined {
    if (wasm === undefined) return undefined;
    const exports = instantiate(wasm);
    return exports === null ? undefined : new WasmSkip(exports);
  }

  /** One for a splitter: one a splitter gave back, else a new one. */
  static acquire(): WasmSkip | undefined {
    return free.pop() ?? WasmSkip.create();
  }

  /** Given back by a splitter that will not touch its memory again. */
  release(): void {
    if (
      free.length < FREE_MAX &&
      this.exports.memory.buffer.byteLength <= FREE_MAX_BYTES &&
      !free.includes(this)
    )
      free.push(this);
  }

  /**
   * A buffer of `size` bytes in the module's memory, starting with the `keep` bytes that were at
   * `from` in the previous one (every earlier buffer is invalid after this call: the memory may grow).
   * Undefined, and the previous buffer still valid, when the memory cannot grow that far (4 GiB at
   * most, or what the machine refuses): the caller goes on without the module.
   */
  resize(size: number, from: number, keep: number): Buffer | undefined {
    const memory = this.exports.memory;
    const need = DATA + size + PAD;
    if (memory.buffer.byteLength < need) {
      try {
        memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
      } catch {
        return undefined;
      }
      this.words = new Int32Array(memory.buffer, 0, DATA / 4);
    }
    const data = Buffer.from(memory.buffer, DATA, size);
    if (keep > 0 && from > 0) data.copyWithin(0, from, from + keep);
    return data;
  }

  /**
   * Where the container opening at offset `start` of the held bytes ends (the offset after it), when
   * it is complete before `end` and valid; -1 when not; FALL_BACK when the caller must walk it.
   * `har`: its level on a HAR entry's way to the body (0: none). After an end, `lines`, `lineStart`,
   * `notedCount` and `notedSpan` tell what was in it.
   */
  skip(start: number, end: number, har: number): number {
    const r = this.exports.skip(DATA + start, DATA + end, har);
    return r < 0 ? r : r - DATA;
  }

  /** Line ends crossed by the last container passed over. */
  get lines(): number {
    return this.words[RESULT / 4]!;
  }

  /** The offset after the last line end crossed, or -1 when none was. */
  get lineStart(): number {
    const at = this.words[RESULT / 4 + 1]!;
    return at < 0 ? -1 : at - DATA;
  }

  /** How many strings the last container passed over noted; `notedSpan(k, ...)` is one of them. */
  get notedCount(): number {
    return this.words[RESULT / 4 + 2]!;
  }

  /**
   * The k-th string noted, as the splitter keeps it: for entry `index`, its field, and where it is
   * (the opening quote, and past the closing one) as offsets in the held bytes plus `base`.
   */
  notedSpan(k: number, index: number, base: number): HarBodySpan {
    const w = BODIES / 4 + 3 * k;
    return {
      index,
      field: this.words[w] === 2 ? 'text' : 'encoding',
      start: this.words[w + 1]! - DATA + base,
      end: this.words[w + 2]! - DATA + base,
    };
  }
}
