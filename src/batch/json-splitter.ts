// Streams a JSON document (or a sequence of them) of any size in bounded memory, cutting it into units
// the engine can process whole, while every byte between units is passed through untouched. The output
// is the input with edits inside units only: formatting, key order, number spelling and escapes survive
// because nothing is ever re-serialised.
//
// Why a byte-level tracker and not stream-json: stream-json tokenises every string into a JS string and
// forgets byte offsets, so it can say *where* a value is (a pointer) but not *which bytes* it was; we
// need the bytes, and skipping string bodies with a native indexOf is several times faster than
// materialising them. The tracker validates structure (brackets, commas, colons, literals); string
// escapes and number spelling are left to the engine, which parses each unit anyway.
//
// How it splits: values are held until they close. A held container that grows past `unitBytes` is
// "split": its members become units of their own (consecutive small members batched up to
// `blockBytes`, with the container's pointer and the first member's index) and its brackets, commas
// and whitespace become verbatim bytes. Splitting recurses into whatever member is too big; a string
// too long to hold is streamed through as raw text. The top-level values of a sequence are batched
// the same way when small (`values` units). A syntax error, or containers nested deeper than
// MAX_DEPTH, ends JSON mode: complete units are flushed and everything from the first unemitted byte
// on is handed over as `rest` (text).
//
// A container complete in what is held is passed over in one go (`skipContainer`), by WebAssembly
// (json-skip.wat, strings crossed 16 bytes at a time) where the runtime can run it.

import { childPointer } from '../pipeline/index.ts';
import { FALL_BACK, WasmSkip } from './json-skip.ts';

export type UnitKind = 'value' | 'array' | 'object';

export interface JsonUnit {
  /**
   * `value`: one whole JSON value. `array`/`object`: consecutive members of a split container.
   * `values`: consecutive small top-level values of a JSON text sequence, with the whitespace between
   * them; `topIndex` and `line` are the first one's.
   */
  kind: UnitKind | 'values';
  bytes: Uint8Array;
  /** Pointer of the value (`value`) or of the container the members belong to, relative to the top-level value. */
  pointer: string;
  /** For `array` units, the index of the first element in `bytes`. */
  firstIndex: number;
  /** 1-based line where `bytes` start. */
  line: number;
  /** 0-based ordinal of the top-level value this unit belongs to (JSON text sequences). */
  topIndex: number;
  /** Offset of `bytes` in the input. */
  offset: number;
  /**
   * With `harBodies`, on a batch of `/log/entries`: where the entries' `response.content.text` and
   * `response.content.encoding` strings are (quotes included), relative to `bytes`, in input order.
   */
  harBodies?: HarBodySpan[];
}

export interface HarBodySpan {
  /** The entry, counted from the unit's first (`firstIndex`). */
  index: number;
  field: 'text' | 'encoding';
  start: number;
  end: number;
}

export interface InvalidJson {
  offset: number;
  line: number;
  column: number;
  reason: string;
}

export interface SplitEvents {
  verbatim(bytes: Uint8Array): void;
  unit(unit: JsonUnit): void;
  /** A string value too long to hold; its raw body (between the quotes, escapes as written) follows. */
  longStringStart(pointer: string, line: number, topIndex: number): void;
  longStringChunk(bytes: Uint8Array): void;
  longStringEnd(): void;
  /** A container was split into its members (HAR: an entry too big to process whole). */
  split?(pointer: string): void;
  /** Not JSON from here on; everything not yet emitted arrives through `rest`, starting at `line`. */
  invalid(info: InvalidJson, restLine: number): void;
  rest(bytes: Uint8Array): void;
}

export interface SplitterOptions {
  /**
   * Most bytes of one value held before it is split. Held sizes are checked after each push, so a
   * unit can exceed this by up to one pushed chunk: push chunks of at most `maxUnitBytes - unitBytes`.
   */
  unitBytes: number;
  /** Most bytes in a batch of small members (a single member may be bigger, up to the unit limit). */
  blockBytes: number;
  /** Containers split as soon as they open, whatever their size (HAR: '', '/log', '/log/entries'). */
  alwaysSplit?: (pointer: string) => boolean;
  /**
   * How deep `alwaysSplit` can say yes (the top-level value is 1): deeper containers are not asked,
   * and no pointer is built for them (HAR: 3, `/log/entries`).
   */
  alwaysSplitDepth?: number;
  /** Applied to object keys before they go into pointers (R1: a key can hold a token). */
  maskKey?: (key: string) => string;
  /** Where the members of a split container are copied to (at least `n` bytes); default a new buffer. */
  alloc?: (n: number) => Buffer;
  /**
   * HAR: note where each entry of `/log/entries` holds `response.content.text` and `.encoding`
   * (string values), and hand that over with the batch of entries (`JsonUnit.harBodies`), so that
   * base64 bodies are found without walking the entries a second time.
   */
  harBodies?: boolean;
  /**
   * Pass over complete containers with the WebAssembly walk (json-skip.wat) where the runtime can
   * run it (default true); false: always with the JavaScript one (`skipContainer`), which tests
   * compare it with.
   */
  wasm?: boolean;
}

interface Frame {
  isRoot: boolean;
  isArray: boolean;
  start: number;
  split: boolean;
  pointer: string;
  /** Completed members. */
  count: number;
  /** Start of the member in progress (objects: its key), -1 between members. */
  childStart: number;
  childLine: number;
  /** The member in progress was split or streamed: it is emitted already and joins no batch. */
  childEmitted: boolean;
  keyStart: number;
  keyEnd: number;
  firstChildStart: number;
  firstChildLine: number;
  lastEnd: number;
  lastEndLine: number;
  sliceStart: number;
  sliceFirst: number;
  sliceLine: number;
}

const SP = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

const ST_TOP = 0;
const ST_VALUE = 1;
const ST_AFTER = 2;
const ST_FIRST_KEY = 3;
const ST_KEY = 4;
const ST_COLON = 5;
const ST_FIRST_ELEM = 6;
const ST_STRING = 7;
const ST_NUMBER = 8;
const ST_LITERAL = 9;
const ST_LONG_STRING = 10;
const ST_DEAD = 11;

/**
 * Containers open at once, the top-level value's included, before the document counts as not JSON
 * (and the rest is scanned as text, as after any syntax error): each open one holds a frame here, and
 * a hostile 3.3 MB document nested 1.5 million deep had the scan at 490 MB, still running after 10
 * minutes. Real documents nest a few dozen deep; the JSON parsers of most languages stop far sooner.
 */
const MAX_DEPTH = 10_000;

/**
 * Top-level values under this size are batched into `values` units (up to blockBytes), not a unit
 * each: a unit, and the job it becomes, cost ~3 us of events, copies and bookkeeping, and a JSON text
 * sequence of 33 million `{}` (99 MB) took 91 s with small writes gathered. A batch of one value is a `value` unit, as before.
 */
const SMALL_VALUE = 4096;

/** States of `skipContainer`. */
const SK_VALUE = 0;
const SK_FIRST_ELEM = 1;
const SK_AFTER = 2;
const SK_FIRST_KEY = 3;
const SK_KEY = 4;
const SK_COLON = 5;

const LITERALS = ['true', 'false', 'null'];
const HAR_ENTRIES = '/log/entries';
/** Smallest buffer the splitter holds its bytes in. */
const MIN_BUFFER = 1024 * 1024;
/** Bytes of a string looked at one by one before searching the rest natively. */
const SHORT_STRING = 32;
/** `closingQuote`: no closing quote before the end of the bytes (NOT_HERE), or the last byte a backslash (ESCAPE_PENDING). */
const NOT_HERE = -1;
const ESCAPE_PENDING = -2;
/** `harKey`: a key of a HAR entry passed over names the next level on the body's path, the body text or encoding, or nothing. */
const KEY_OTHER = 0;
const KEY_NEXT = 1;
const KEY_TEXT = 2;
const KEY_ENCODING = 3;
/** UTF-8 byte order mark, accepted (and passed through) at the very start. */
const BOM = [0xef, 0xbb, 0xbf];

/** A byte a JSON number can hold (digits, sign, point, exponent): a number is read as a run of them. */
export function isNumberByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;
}

function newFrame(): Frame {
  return {
    isRoot: false,
    isArray: false,
    start: 0,
    split: false,
    pointer: '',
    count: 0,
    childStart: -1,
    childLine: 0,
    childEmitted: false,
    keyStart: -1,
    keyEnd: -1,
    firstChildStart: -1,
    firstChildLine: 0,
    lastEnd: -1,
    lastEndLine: 0,
    sliceStart: -1,
    sliceFirst: 0,
    sliceLine: 0,
  };
}

/** RFC 6901 escaping of one reference token. */
export function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

export class JsonSplitter {
  private readonly events: SplitEvents;
  private readonly unitBytes: number;
  private readonly blockBytes: number;
  private readonly alwaysSplit: ((pointer: string) => boolean) | undefined;
  private readonly alwaysSplitDepth: number;
  private readonly maskKey: (key: string) => string;
  private readonly harBodies: boolean;
  private readonly alloc: (n: number) => Buffer;
  /** With `harBodies`: spans seen in entries not yet emitted (absolute offsets, absolute entry index). */
  private bodies: HarBodySpan[] = [];

  /** Bytes from absolute offset `base` on; `data.subarray(0, len)` is valid. */
  private data: Buffer = Buffer.alloc(0);
  /** `data` up to `len`: what indexOf may search. */
  private view: Buffer = this.data;
  private base = 0;
  private len = 0;

  private state = ST_TOP;
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  private emitPos = 0;
  private emitLine = 1;

  private readonly frames: Frame[] = [];
  private depth = 0;
  /** How many top-level values the root frame's slice holds (its `sliceFirst`: the first one's ordinal). */
  private rootCount = 0;
  /**
   * frames[1, splitUpTo) are all split (values are split outermost first): where holdCheck looks for
   * the first one that is not. It looked from frames[1] each time, so splitting a document nested
   * 540,000 deep one level after another took 2.3 s there alone (600,000: 22 s; 1.2 million: minutes).
   */
  private splitUpTo = 1;
  private topIndex = 0;

  private valStart = 0;
  private valLine = 1;
  private strIsKey = false;
  private strFrom = 0;
  private strEscaped = false;
  /** Containers opening before this offset are tracked member by member (a skip failed in this push). */
  private skipFrom = 0;
  /** Open containers of `skipContainer` (1: array). */
  private readonly skipStack: number[] = [];
  /** Response body strings of the HAR entry `skipContainer` is passing over (absolute offsets). */
  private readonly skipBodies: { field: 'text' | 'encoding'; start: number; end: number }[] = [];
  /** How many of `skipBodies` the container being passed over holds (the array is reused). */
  private skipBodyCount = 0;
  /** The WebAssembly walk, whose memory then holds `data`; undefined: `skipContainer` only. */
  private wasm: WasmSkip | undefined;

  constructor(events: SplitEvents, options: SplitterOptions) {
    this.events = events;
    this.unitBytes = options.unitBytes;
    this.blockBytes = options.blockBytes;
    this.alwaysSplit = options.alwaysSplit;
    this.alwaysSplitDepth = options.alwaysSplitDepth ?? Number.POSITIVE_INFINITY;
    this.maskKey = options.maskKey ?? ((k) => k);
    this.harBodies = options.harBodies === true;
    this.alloc = options.alloc ?? ((n) => Buffer.allocUnsafeSlow(n));
    this.wasm = options.wasm === false ? undefined : WasmSkip.acquire();
    const root = newFrame();
    root.isRoot = true;
    root.split = true;
    this.frames.push(root);
    this.depth = 1;
  }

  /** True once the input turned out not to be JSON. */
  get failed(): boolean {
    return this.state === ST_DEAD;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.state === ST_DEAD) {
      this.events.rest(chunk);
      return;
    }
    this.append(chunk);
    this.scan();
    if (this.state !== ST_DEAD) this.holdCheck();
  }

  end(): void {
    try {
      this.finish();
    } finally {
      this.releaseWasm();
    }
  }

  /** The module's instance goes back for another splitter: nothing here reads `data` after the end. */
  private releaseWasm(): void {
    this.wasm?.release();
    this.wasm = undefined;
  }

  private finish(): void {
    const end = this.base + this.len;
    switch (this.state) {
      case ST_DEAD:
        return;
      case ST_TOP:
        this.emitTo(end, this.line);
        return;
      case ST_NUMBER:
      case ST_LITERAL:
        if (this.depth === 1) {
          if (this.state === ST_LITERAL && !this.literalOk(end)) {
            this.fail(this.valStart, 'invalid literal');
            return;
          }
          this.valueDone(end);
          this.emitTo(end, this.line);
          return;
        }
        this.fail(end, 'unexpected end of JSON');
        return;
      default:
        this.fail(end, 'unexpected end of JSON');
    }
  }

  private append(chunk: Uint8Array): void {
    if (this.len + chunk.length > this.data.length) {
      const drop = this.emitPos - this.base;
      const keep = this.len - drop;
      if (keep + chunk.length > this.data.length >> 1) {
        // Roomy, so that held bytes are moved to the front seldom (each move copies all of them).
        const size = Math.max(2 * (keep + chunk.length), MIN_BUFFER);
        const inWasm = this.wasm?.resize(size, drop, keep);
        if (inWasm !== undefined) {
          this.data = inWasm;
        } else {
          // No module, or its memory cannot grow that far: from here on, the JavaScript walk.
          this.wasm = undefined;
          const next = Buffer.allocUnsafeSlow(size);
          this.data.copy(next, 0, drop, this.len);
          this.data = next;
        }
      } else {
        this.data.copy(this.data, 0, drop, this.len);
      }
      this.base = this.emitPos;
      this.len = keep;
    }
    this.data.set(chunk, this.len);
    this.len += chunk.length;
    this.view = this.data.subarray(0, this.len);
  }

  private copy(from: number, to: number): Uint8Array {
    const out = to - from < 4096 ? Buffer.allocUnsafe(to - from) : Buffer.allocUnsafeSlow(to - from);
    out.set(this.data.subarray(from - this.base, to - this.base));
    return out;
  }

  /**
   * Members of a container, copied into a buffer of their own with the container's brackets around
   * them (`[` / `{` before, `]` / `}` after): the view returned is the members only, and whoever
   * needs them as one JSON value finds the brackets in place instead of copying them again.
   */
  private copyMembers(from: number, to: number, isArray: boolean): Buffer {
    const n = to - from;
    const out = this.alloc(n + 2);
    out[0] = isArray ? LBRACKET : LBRACE;
    out.set(this.data.subarray(from - this.base, to - this.base), 1);
    out[n + 1] = isArray ? RBRACKET : RBRACE;
    return out.subarray(1, n + 1);
  }

  private emitTo(to: number, line: number): void {
    // Top-level values batched before these bytes go first.
    if (this.frames[0]!.sliceStart >= 0) this.flushRoot();
    if (to > this.emitPos) {
      this.events.verbatim(this.copy(this.emitPos, to));
      this.emitPos = to;
    }
    this.emitLine = line;
  }

  private scan(): void {
    const data = this.data;
    const base = this.base;
    const end = base + this.len;
    let i = this.pos;
    while (i < end) {
      const state = this.state;
      if (state === ST_STRING || state === ST_LONG_STRING) {
        const q = this.findQuote(i, end);
        if (q < 0) {
          i = end;
          if (state === ST_LONG_STRING) {
            this.events.longStringChunk(this.copy(this.emitPos, end));
            this.emitPos = end;
          }
          break;
        }
        i = q + 1;
        if (state === ST_LONG_STRING) {
          if (q > this.emitPos) this.events.longStringChunk(this.copy(this.emitPos, q));
          this.events.longStringEnd();
          this.emitPos = q;
          this.emitLine = this.line;
          this.valueDone(q + 1);
        } else if (this.strIsKey) {
          this.frames[this.depth - 1]!.keyEnd = q + 1;
          this.state = ST_COLON;
        } else {
          // `/log/entries/N/response/content/x` is 7 frames deep (the root frame included).
          if (this.harBodies && this.depth === 7) this.noteHarBody(q + 1);
          this.valueDone(q + 1);
        }
        continue;
      }
      const c = data[i - base]!;
      if (state === ST_NUMBER) {
        if (isNumberByte(c)) {
          i++;
          continue;
        }
        this.valueDone(i);
        continue;
      }
      if (state === ST_LITERAL) {
        if (c >= 0x61 && c <= 0x7a) {
          i++;
          continue;
        }
        if (!this.literalOk(i)) {
          this.fail(this.valStart, 'invalid literal');
          return;
        }
        this.valueDone(i);
        continue;
      }
      if (c === SP || c === TAB || c === CR) {
        i++;
        continue;
      }
      if (c === LF) {
        i++;
        this.line++;
        this.lineStart = i;
        continue;
      }
      switch (state) {
        case ST_TOP:
          if (i < 3 && c === BOM[i]) {
            i++;
            continue;
          }
          if ((c === LBRACE || c === LBRACKET) && i >= this.skipFrom) {
            const after = this.trySkip(i, end);
            if (after >= 0) {
              i = after;
              continue;
            }
          }
          if (!this.beginValue(c, i)) {
            this.fail(i, 'expected a JSON value');
            return;
          }
          if (this.state === ST_DEAD) return;
          i++;
          continue;
        case ST_VALUE:
          if ((c === LBRACE || c === LBRACKET) && i >= this.skipFrom) {
            const after = this.trySkip(i, end);
            if (after >= 0) {
              i = after;
              continue;
            }
          }
          if (!this.beginValue(c, i)) {
            this.fail(i, 'expected a value');
            return;
          }
          if (this.state === ST_DEAD) return;
          i++;
          continue;
        case ST_FIRST_ELEM:
          if (c === RBRACKET) {
            this.close(i);
            i++;
            continue;
          }
          if ((c === LBRACE || c === LBRACKET) && i >= this.skipFrom) {
            const after = this.trySkip(i, end);
            if (after >= 0) {
              i = after;
              continue;
            }
          }
          if (!this.beginValue(c, i)) {
            this.fail(i, 'expected a value or ]');
            return;
          }
          if (this.state === ST_DEAD) return;
          i++;
          continue;
        case ST_AFTER: {
          const f = this.frames[this.depth - 1]!;
          if (c === COMMA) {
            this.state = f.isArray ? ST_VALUE : ST_KEY;
            i++;
            continue;
          }
          if ((c === RBRACKET && f.isArray) || (c === RBRACE && !f.isArray)) {
            this.close(i);
            i++;
            continue;
          }
          this.fail(i, f.isArray ? 'expected , or ]' : 'expected , or }');
          return;
        }
        case ST_FIRST_KEY:
        case ST_KEY: {
          if (c === RBRACE && state === ST_FIRST_KEY) {
            this.close(i);
            i++;
            continue;
          }
          if (c !== QUOTE) {
            this.fail(i, 'expected a string key');
            return;
          }
          const f = this.frames[this.depth - 1]!;
          f.childStart = i;
          f.childLine = this.line;
          f.childEmitted = false;
          f.keyStart = i;
          this.startString(i, true);
          i++;
          continue;
        }
        case ST_COLON:
          if (c !== COLON) {
            this.fail(i, 'expected :');
            return;
          }
          this.state = ST_VALUE;
          i++;
          continue;
        default: {
          this.fail(i, 'unexpected state');
          return;
        }
      }
    }
    this.pos = i;
  }

  private startString(i: number, isKey: boolean): void {
    this.state = ST_STRING;
    this.strIsKey = isKey;
    this.valStart = i;
    this.valLine = this.line;
    this.strFrom = i + 1;
    this.strEscaped = false;
  }

  /** The closing quote at or after `from`, or -1 (then remembers where to resume and the escape state). */
  private findQuote(from: number, end: number): number {
    let i = Math.max(from, this.strFrom);
    if (this.strEscaped && i < end) {
      i++;
      this.strEscaped = false;
    }
    const q = this.closingQuote(i, end);
    if (q >= 0) {
      this.strFrom = q + 1;
      return q;
    }
    this.strEscaped = q === ESCAPE_PENDING;
    this.strFrom = end;
    return -1;
  }

  /**
   * The first unescaped quote in [from, end), `from` being where a character starts (not the byte
   * after a backslash); else NOT_HERE, or ESCAPE_PENDING when the last byte starts an escape.
   * Most strings are short: their bytes are looked at one by one, backslashes skipping the byte they
   * escape (a native call per string costs more). Past SHORT_STRING bytes without a quote, the next
   * quote is searched natively and the backslashes before it counted, then bytes one by one again.
   */
  private closingQuote(from: number, end: number): number {
    const data = this.view;
    const base = this.base;
    let i = from;
    for (;;) {
      const near = Math.min(end, i + SHORT_STRING);
      while (i < near) {
        const c = data[i - base];
        if (c === QUOTE) return i;
        i += c === BSLASH ? 2 : 1;
      }
      if (i >= end) return i > end ? ESCAPE_PENDING : NOT_HERE;
      const rel = data.indexOf(QUOTE, i - base);
      const q = rel < 0 || rel + base >= end ? end : rel + base;
      let k = q - 1;
      while (k >= i && data[k - base] === BSLASH) k--;
      const escaped = (q - 1 - k) % 2 === 1;
      if (q === end) return escaped ? ESCAPE_PENDING : NOT_HERE;
      if (!escaped) return q;
      i = q + 1;
    }
  }

  private literalOk(end: number): boolean {
    return this.isLiteral(this.valStart, end);
  }

  /** The bytes from `from` to `to` are `true`, `false` or `null` (compared byte by byte: no string per literal). */
  private isLiteral(from: number, to: number): boolean {
    const at = from - this.base;
    const n = to - from;
    for (const lit of LITERALS) {
      if (lit.length !== n) continue;
      let same = true;
      for (let k = 0; k < n; k++) {
        if (this.data[at + k] !== lit.charCodeAt(k)) {
          same = false;
          break;
        }
      }
      if (same) return true;
    }
    return false;
  }

  private beginValue(c: number, i: number): boolean {
    const parent = this.frames[this.depth - 1]!;
    if (parent.isRoot || parent.isArray) {
      parent.childStart = i;
      parent.childLine = this.line;
      parent.childEmitted = false;
    }
    if (c === QUOTE) {
      this.startString(i, false);
      return true;
    }
    if (c === LBRACE || c === LBRACKET) {
      this.open(i, c === LBRACKET, parent);
      return true;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      this.state = ST_NUMBER;
      this.valStart = i;
      return true;
    }
    if (c === 0x74 || c === 0x66 || c === 0x6e) {
      this.state = ST_LITERAL;
      this.valStart = i;
      return true;
    }
    return false;
  }

  /**
   * Before `beginValue` for a container: passes over it whole when it may be and is complete here
   * (returns the offset after it), else -1 (then no more tries until the next push, so that nested
   * containers are not walked again and again).
   */
  private trySkip(i: number, end: number): number {
    const parent = this.frames[this.depth - 1]!;
    if (!this.maySkip(parent)) return -1;
    if (parent.isRoot || parent.isArray) {
      parent.childStart = i;
      parent.childLine = this.line;
      parent.childEmitted = false;
    }
    const level = this.harLevel(i);
    this.skipBodyCount = 0;
    let after = this.wasm !== undefined ? this.wasmSkip(this.wasm, i, end, level) : FALL_BACK;
    if (after === FALL_BACK) after = this.skipContainer(i, end, level);
    if (after < 0) {
      this.skipFrom = end;
      return -1;
    }
    for (let k = 0; k < this.skipBodyCount; k++) {
      const b = this.skipBodies[k]!;
      this.bodies.push({ index: this.frames[3]!.count, field: b.field, start: b.start, end: b.end });
    }
    this.valueDone(after);
    return after;
  }

  /**
   * `skipContainer` in WebAssembly: the same answer (FALL_BACK when it leaves the container to
   * `skipContainer`), with the same line count and noted bodies.
   */
  private wasmSkip(wasm: WasmSkip, i: number, end: number, level: number): number {
    const base = this.base;
    const r = wasm.skip(i - base, end - base, level);
    if (r < 0) return r;
    this.line += wasm.lines;
    const lineStart = wasm.lineStart;
    if (lineStart >= 0) this.lineStart = lineStart + base;
    // Noted strings go straight to `bodies` (skipContainer's go through skipBodies, kept until its
    // walk succeeds): a container the module passed over is done.
    const n = wasm.notedCount;
    for (let k = 0; k < n; k++) this.bodies.push(wasm.notedSpan(k, this.frames[3]!.count, base));
    return r + base;
  }

  /**
   * With `harBodies`, where the container opening at `i` is on the way to a response body that
   * `noteHarBody` would note: 1 for an entry of `/log/entries` (an object, 4 frames deep with the
   * root frame), 2 for its `response`, 3 for that one's `content` (each an object, the entry not
   * split: a walked entry whose rest came in a later push); else 0. `skipContainer` then notes the
   * bodies in it.
   */
  private harLevel(i: number): number {
    const d = this.depth;
    if (!this.harBodies || d < 4 || d > 6 || this.data[i - this.base] !== LBRACE) return 0;
    const entries = this.frames[3]!;
    if (!entries.isArray || !entries.split || entries.pointer !== HAR_ENTRIES) return 0;
    if (d === 4) return 1;
    const entry = this.frames[4]!;
    if (entry.isArray || entry.split || !this.keyIs(entry, 'response')) return 0;
    if (d === 5) return 2;
    const response = this.frames[5]!;
    return !response.isArray && this.keyIs(response, 'content') ? 3 : 0;
  }

  /**
   * A container opening as a member of `parent` can be passed over whole, without a frame per nested
   * container: nothing in it is ever split (it is complete before the hold check runs), and it is not
   * one `alwaysSplit` may ask for. HAR entries too (`harBodies`): `skipContainer` notes their response
   * bodies (measured: the splitter alone ~15% faster on a generated HAR, 15-20% on plain JSON).
   */
  private maySkip(parent: Frame): boolean {
    return !(this.alwaysSplit !== undefined && parent.split && this.depth <= this.alwaysSplitDepth);
  }

  /**
   * The end (just past its closing bracket) of the container opening at `start`, when it is complete
   * before `end` and valid as the tracker sees it; else -1 and nothing changed. The same grammar as
   * `scan` (strings end at the first unescaped quote, numbers are runs of number bytes, literals are
   * checked), line ends counted in the same places; anything else is left to `scan`, which reports it.
   */
  private skipContainer(start: number, end: number, harLevel = 0): number {
    const data = this.data;
    const base = this.base;
    const stack = this.skipStack;
    // HAR (`harLevel`): the container open at stack level sp is at level sp + off of an entry's way
    // to its body (1: the entry, 2: its `response`, 3: that one's `content`); bit sp of `onPath` says
    // it is on that way. `key` is what the last key read at an on-way level names (KEY_NEXT: the
    // next level's name, KEY_TEXT / KEY_ENCODING at level 3, else KEY_OTHER).
    const off = harLevel - 1;
    let onPath = harLevel > 0 ? 2 : 0;
    let key = KEY_OTHER;
    let sp = 0;
    let lines = 0;
    let lineStart = -1;
    let st = data[start - base] === LBRACKET ? SK_FIRST_ELEM : SK_FIRST_KEY;
    stack[sp++] = st === SK_FIRST_ELEM ? 1 : 0;
    let i = start + 1;
    while (i < end) {
      const c = data[i - base]!;
      if (c === SP || c === TAB || c === CR) {
        i++;
        continue;
      }
      if (c === LF) {
        i++;
        lines++;
        lineStart = i;
        continue;
      }
      // The top container closes: after a member or element, or empty (SK_FIRST_* imply its kind).
      if (
        (c === RBRACKET || c === RBRACE) &&
        (c === RBRACKET) === (stack[sp - 1] === 1) &&
        (st === SK_AFTER || st === SK_FIRST_KEY || st === SK_FIRST_ELEM)
      ) {
        i++;
        if (--sp === 0) {
          this.line += lines;
          if (lineStart >= 0) this.lineStart = lineStart;
          return i;
        }
        st = SK_AFTER;
        continue;
      }
      if (st === SK_AFTER) {
        if (c !== COMMA) return -1;
        st = stack[sp - 1] === 1 ? SK_VALUE : SK_KEY;
        i++;
        continue;
      }
      if (st === SK_COLON) {
        if (c !== COLON) return -1;
        st = SK_VALUE;
        i++;
        continue;
      }
      if (st === SK_FIRST_KEY || st === SK_KEY) {
        if (c !== QUOTE) return -1;
        const q = this.closingQuote(i + 1, end);
        if (q < 0) return -1;
        key = sp <= 3 && (onPath >> sp) & 1 ? this.harKey(sp + off, i, q + 1) : KEY_OTHER;
        i = q + 1;
        st = SK_COLON;
        continue;
      }
      // SK_VALUE or SK_FIRST_ELEM
      if (c === QUOTE) {
        const q = this.closingQuote(i + 1, end);
        if (q < 0) return -1;
        if (sp + off === 3 && key >= KEY_TEXT && sp <= 3 && (onPath >> sp) & 1) {
          this.skipBodies[this.skipBodyCount++] = {
            field: key === KEY_TEXT ? 'text' : 'encoding',
            start: i,
            end: q + 1,
          };
        }
        i = q + 1;
        st = SK_AFTER;
        continue;
      }
      if (c === LBRACE || c === LBRACKET) {
        if (onPath !== 0 && sp < 3) {
          // The next level is on the way when this one is, its key named it, and it is an object.
          const next = c === LBRACE && sp + off < 3 && key === KEY_NEXT && (onPath >> sp) & 1;
          onPath = next ? onPath | (1 << (sp + 1)) : onPath & ~(1 << (sp + 1));
        }
        stack[sp++] = c === LBRACKET ? 1 : 0;
        st = c === LBRACKET ? SK_FIRST_ELEM : SK_FIRST_KEY;
        i++;
        continue;
      }
      if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        i++;
        while (i < end && isNumberByte(data[i - base]!)) i++;
        st = SK_AFTER;
        continue;
      }
      if (c === 0x74 || c === 0x66 || c === 0x6e) {
        const from = i;
        i++;
        while (i < end) {
          const l = data[i - base]!;
          if (l < 0x61 || l > 0x7a) break;
          i++;
        }
        // A literal running into `end` may go on in the next push: left to `scan`.
        if (i >= end || !this.isLiteral(from, i)) return -1;
        st = SK_AFTER;
        continue;
      }
      return -1;
    }
    return -1;
  }

  /** Opens a container at `i`; past MAX_DEPTH, fails instead (the rest is then scanned as text). */
  private open(i: number, isArray: boolean, parent: Frame): void {
    if (this.depth > MAX_DEPTH) {
      this.fail(i, `nested deeper than ${MAX_DEPTH}`);
      return;
    }
    if (this.depth < this.splitUpTo) this.splitUpTo = Math.max(1, this.depth);
    if (this.depth === this.frames.length) this.frames.push(newFrame());
    const f = this.frames[this.depth]!;
    f.isRoot = false;
    f.isArray = isArray;
    f.start = i;
    f.split = false;
    f.pointer = '';
    f.count = 0;
    f.childStart = -1;
    f.childEmitted = false;
    f.keyStart = -1;
    f.keyEnd = -1;
    f.firstChildStart = -1;
    f.lastEnd = -1;
    f.sliceStart = -1;
    this.depth++;
    this.state = isArray ? ST_FIRST_ELEM : ST_FIRST_KEY;
    if (
      this.alwaysSplit !== undefined &&
      parent.split &&
      this.depth - 1 <= this.alwaysSplitDepth &&
      this.alwaysSplit(this.childPointer(parent))
    ) {
      this.pos = i + 1;
      this.splitFrame(this.depth - 1, i + 1);
    }
  }

  private close(i: number): void {
    const f = this.frames[this.depth - 1]!;
    if (f.split) {
      this.flushSlice(f);
      this.emitTo(i + 1, this.line);
    }
    this.depth--;
    this.valueDone(i + 1);
  }

  private valueDone(end: number): void {
    const p = this.frames[this.depth - 1]!;
    if (p.split) {
      if (p.childEmitted) {
        p.childEmitted = false;
      } else if (p.isRoot && end - p.childStart < SMALL_VALUE) {
        // Batched with the top-level values before it, as a split container's members are.
        if (p.sliceStart >= 0 && end - p.sliceStart > this.blockBytes) this.flushRoot();
        if (p.sliceStart < 0) {
          this.emitTo(p.childStart, p.childLine);
          p.sliceStart = p.childStart;
          p.sliceLine = p.childLine;
          p.sliceFirst = this.topIndex;
        }
        this.rootCount++;
        p.lastEnd = end;
        p.lastEndLine = this.line;
        if (end - p.sliceStart >= this.blockBytes) this.flushRoot();
      } else if (p.isRoot) {
        this.emitTo(p.childStart, p.childLine);
        this.events.unit({
          kind: 'value',
          bytes: this.copy(p.childStart, end),
          pointer: '',
          firstIndex: 0,
          line: p.childLine,
          topIndex: this.topIndex,
          offset: p.childStart,
        });
        this.emitPos = end;
        this.emitLine = this.line;
      } else {
        // A batch never grows past blockBytes by taking in a member: that member starts the next one.
        if (p.sliceStart >= 0 && end - p.sliceStart > this.blockBytes) this.flushSlice(p);
        if (p.sliceStart < 0) {
          this.emitTo(p.childStart, p.childLine);
          p.sliceStart = p.childStart;
          p.sliceFirst = p.count;
          p.sliceLine = p.childLine;
        }
        p.lastEnd = end;
        p.lastEndLine = this.line;
        if (end - p.sliceStart >= this.blockBytes) this.flushSlice(p);
      }
    } else {
      if (p.firstChildStart < 0) {
        p.firstChildStart = p.childStart;
        p.firstChildLine = p.childLine;
      }
      p.lastEnd = end;
      p.lastEndLine = this.line;
    }
    p.count++;
    p.childStart = -1;
    if (p.isRoot) {
      this.topIndex++;
      this.state = ST_TOP;
    } else {
      this.state = ST_AFTER;
    }
  }

  /** The batched top-level values: a `value` unit when there is one, else a `values` unit. */
  private flushRoot(): void {
    const f = this.frames[0]!;
    if (f.sliceStart < 0) return;
    const start = f.sliceStart;
    f.sliceStart = -1;
    const unit: JsonUnit = {
      kind: this.rootCount === 1 ? 'value' : 'values',
      bytes: this.copy(start, f.lastEnd),
      pointer: '',
      firstIndex: 0,
      line: f.sliceLine,
      topIndex: f.sliceFirst,
      offset: start,
    };
    this.rootCount = 0;
    // Marked emitted before the unit goes: emitTo would come back here otherwise.
    this.emitPos = f.lastEnd;
    this.emitLine = f.lastEndLine;
    this.events.unit(unit);
  }

  private flushSlice(f: Frame): void {
    if (f.isRoot) {
      // The root frame's slice is its batched top-level values.
      this.flushRoot();
      return;
    }
    if (f.sliceStart < 0) return;
    const unit: JsonUnit = {
      kind: f.isArray ? 'array' : 'object',
      bytes: this.copyMembers(f.sliceStart, f.lastEnd, f.isArray),
      pointer: f.pointer,
      firstIndex: f.sliceFirst,
      line: f.sliceLine,
      topIndex: this.topIndex,
      offset: f.sliceStart,
    };
    if (this.harBodies && f.isArray && f.pointer === HAR_ENTRIES) {
      // Spans come in input order: those of this batch go with it, those after it stay.
      const spans: HarBodySpan[] = [];
      const rest: HarBodySpan[] = [];
      for (const b of this.bodies) {
        if (b.start >= f.lastEnd) rest.push(b);
        else if (b.start >= f.sliceStart && b.end <= f.lastEnd && b.index >= f.sliceFirst) {
          // Handed over with the batch and never looked at here again: made relative in place.
          b.index -= f.sliceFirst;
          b.start -= f.sliceStart;
          b.end -= f.sliceStart;
          spans.push(b);
        }
      }
      unit.harBodies = spans;
      this.bodies = rest;
    }
    this.events.unit(unit);
    this.emitPos = f.lastEnd;
    this.emitLine = f.lastEndLine;
    f.sliceStart = -1;
  }

  /**
   * A string value just ended at `end`: is it `response.content.text` or `.encoding` of an entry of
   * `/log/entries` that is held whole (an entry split into parts is scanned without body decoding)?
   */
  private noteHarBody(end: number): void {
    const d = this.depth;
    const content = this.frames[d - 1]!;
    const response = this.frames[d - 2]!;
    const entry = this.frames[d - 3]!;
    const entries = this.frames[d - 4]!;
    if (content.isArray || response.isArray || entry.isArray || entry.split) return;
    if (!entries.isArray || !entries.split || entries.pointer !== HAR_ENTRIES) return;
    const field = this.keyIs(content, 'text')
      ? 'text'
      : this.keyIs(content, 'encoding')
        ? 'encoding'
        : undefined;
    if (field === undefined || !this.keyIs(response, 'content') || !this.keyIs(entry, 'response')) return;
    this.bodies.push({ index: entries.count, field, start: this.valStart, end });
  }

  /** The key of the member `f` is in is `name` (escapes decoded). */
  private keyIs(f: Frame, name: string): boolean {
    return this.keyAt(f.keyStart, f.keyEnd, name);
  }

  /** What the key at [start, end) (quotes included) at `level` of a HAR entry passed over names (`skipContainer`). */
  private harKey(level: number, start: number, end: number): number {
    if (level === 1) return this.keyAt(start, end, 'response') ? KEY_NEXT : KEY_OTHER;
    if (level === 2) return this.keyAt(start, end, 'content') ? KEY_NEXT : KEY_OTHER;
    if (this.keyAt(start, end, 'text')) return KEY_TEXT;
    return this.keyAt(start, end, 'encoding') ? KEY_ENCODING : KEY_OTHER;
  }

  /** The key at [keyStart, keyEnd) (quotes included, absolute offsets) is `name` (escapes decoded). */
  private keyAt(keyStart: number, keyEnd: number, name: string): boolean {
    const from = keyStart + 1 - this.base;
    const to = keyEnd - 1 - this.base;
    if (keyStart < this.base || to < from) return false;
    const data = this.data;
    if (to - from === name.length) {
      let same = true;
      for (let i = 0; i < name.length; i++) {
        if (data[from + i] !== name.charCodeAt(i)) {
          same = false;
          break;
        }
      }
      if (same) return true;
    }
    // An escape is 2 bytes or more for one character: an escaped key that is `name` is longer.
    if (to - from <= name.length) return false;
    // An escaped key can still be `name`; keys are short, and a view per key would be garbage.
    let escaped = false;
    for (let i = from; i < to && !escaped; i++) escaped = data[i] === BSLASH;
    if (!escaped) return false;
    try {
      return JSON.parse(data.toString('utf8', from - 1, to + 1)) === name;
    } catch {
      return false;
    }
  }

  /** The pointer of p's current child, bounded (json-paths.ts childPointer). */
  private childPointer(p: Frame): string {
    if (p.isRoot) return '';
    if (p.isArray) return childPointer(p.pointer, String(p.count));
    const raw = this.data.toString('utf8', p.keyStart - this.base, p.keyEnd - this.base);
    let key: string;
    try {
      key = JSON.parse(raw) as string;
    } catch {
      key = raw.slice(1, -1);
    }
    return childPointer(p.pointer, pointerToken(this.maskKey(key)));
  }

  /** Splits held values, outermost first, until what is held fits the limits. */
  private holdCheck(): void {
    const end = this.base + this.len;
    for (;;) {
      let d = this.splitUpTo;
      while (d < this.depth && this.frames[d]!.split) d++;
      this.splitUpTo = d;
      const u = d < this.depth ? d : -1;
      if (u > 0) {
        if (end - this.frames[u]!.start > this.unitBytes) {
          this.splitFrame(u, end);
          continue;
        }
        return;
      }
      const p = this.frames[this.depth - 1]!;
      if (p.childStart < 0 || p.childEmitted || end - p.childStart <= this.unitBytes) return;
      if (this.state === ST_STRING && !this.strIsKey) {
        this.goLongString(end);
        return;
      }
      if (this.state === ST_NUMBER || this.state === ST_LITERAL) {
        // Digits cannot hold a token: pass an absurdly long number through as it is.
        this.flushSlice(p);
        this.emitTo(end, this.line);
        p.childEmitted = true;
        return;
      }
      if (this.state === ST_LONG_STRING) return;
      this.fail(end, 'object key too long');
      return;
    }
  }

  private splitFrame(u: number, scanned: number): void {
    const f = this.frames[u]!;
    const parent = this.frames[u - 1]!;
    this.flushSlice(parent);
    f.pointer = this.childPointer(parent);
    f.split = true;
    parent.childEmitted = true;
    this.events.split?.(f.pointer);
    if (f.firstChildStart >= 0) {
      this.emitTo(f.firstChildStart, f.firstChildLine);
      f.sliceStart = f.firstChildStart;
      f.sliceFirst = 0;
      f.sliceLine = f.firstChildLine;
      if (f.lastEnd - f.sliceStart >= this.blockBytes) this.flushSlice(f);
    } else if (f.childStart >= 0) {
      this.emitTo(f.childStart, f.childLine);
    } else {
      this.emitTo(scanned, this.line);
    }
  }

  private goLongString(end: number): void {
    const p = this.frames[this.depth - 1]!;
    this.flushSlice(p);
    const pointer = this.childPointer(p);
    this.emitTo(this.valStart + 1, this.valLine);
    this.events.longStringStart(pointer, this.valLine, this.topIndex);
    if (end > this.emitPos) {
      this.events.longStringChunk(this.copy(this.emitPos, end));
      this.emitPos = end;
    }
    p.childEmitted = true;
    this.state = ST_LONG_STRING;
  }

  private fail(at: number, reason: string): void {
    // Top-level values batched so far are JSON, and come before anything emitted here.
    this.flushRoot();
    const info: InvalidJson = { offset: at, line: this.line, column: at - this.lineStart + 1, reason };
    const end = this.base + this.len;
    if (this.state === ST_LONG_STRING) {
      if (end > this.emitPos) this.events.longStringChunk(this.copy(this.emitPos, end));
      this.events.longStringEnd();
      this.emitPos = end;
    } else {
      for (let d = this.depth - 1; d > 0; d--) {
        if (this.frames[d]!.split) {
          this.flushSlice(this.frames[d]!);
          break;
        }
      }
    }
    this.state = ST_DEAD;
    this.pos = end;
    this.events.invalid(info, this.emitLine);
    if (end > this.emitPos) this.events.rest(this.copy(this.emitPos, end));
    this.emitPos = end;
    // Dead: what comes later goes to `rest` as it is, and `data` is never read again.
    this.releaseWasm();
  }
}
