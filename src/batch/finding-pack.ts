// Findings on their way from a worker to the pool. Structured cloning rebuilds every object of every
// message: with tokens repeated across a file (a log full of the same bearer token), most of a finding
// is its token's analysis (header, claims, classification, status, risks, frameworks), the same
// objects for every sighting, and the pool spent more on rebuilding them than the worker on finding
// them. So a worker sends each analysis once, as a template, and then only what differs per finding
// (id, time, source, encoding, context); the pool keeps the templates of each worker and builds the
// findings back with the same keys in the same order, sharing the analysis parts between findings as
// the engine itself does in the calling thread. Anything not of the exact expected shape (error
// findings, a field the engine may add one day) travels as it is.
// What differs per finding travels flat, as one array of numbers (the source's key list sent once
// per shape, like a template): structured cloning rebuilds an object or array per value otherwise (a
// source object and an encoding array per finding), and the pool, which has the ordered output, the
// writing and every other finding to see to, spent more on reading those back than on anything else
// a worker's result asks of it. Strings go in a table beside it, each once per message (but ids,
// which are all different): most of a finding's strings are the same as the last one's (its time,
// file, pointer, context), and cloning made a new string of each, for every finding.
// When the findings are only counted (a scan that writes none, only its summary), a finding with a
// template travels as the template's number alone, and comes back as the template (the token's
// analysis, which is all the summary reads): no id, time or source is packed, cloned or rebuilt.
import type { FindingAnalysis } from '../findings/index.ts';
import type { AnyFinding, Finding, SourceRef } from '../model.ts';

/** A token's analysis: everything in a finding but id, time, source, token.encoding and token.context. */
interface Template {
  schema: Finding['schema'];
  rule: string;
  severity: Finding['severity'];
  /** A token object of the template's findings: its keys (in order) and every value but encoding and context. */
  token: Finding['token'];
  header: Finding['header'];
  claims: Finding['claims'];
  classification: Finding['classification'];
  status: Finding['status'];
  risks: Finding['risks'];
  frameworks: Finding['frameworks'];
  action: Finding['action'];
  inner?: Finding['inner'];
}

export interface PackedFindings {
  /** Templates first used in this message. */
  templates: [number, Template][];
  /**
   * Source shapes first used in this message: a source's keys, in order, and which of their values
   * are numbers (bit k set: the k-th; the others are strings).
   */
  shapes: [number, string[], number][];
  /** The strings `flat` names by their index: each once, but finding ids, one a finding. */
  strings: string[];
  /**
   * The findings, in order, flattened: per finding its template, id, time, source shape, the source's
   * values (as many as the shape has keys), the number of encodings, the encodings, the context, each
   * string as its index in `strings`; or WHOLE, standing for the next finding of `whole`.
   */
  flat: Float64Array;
  /** Findings not of the expected shape, as they are. */
  whole: AnyFinding[];
  /**
   * Packed for counting only (FindingPacker.pack): a finding with a template is its number alone in
   * `flat`, and is unpacked as its analysis (FindingUnpacker.unpackCounted).
   */
  counted?: true;
}

const WHOLE = -1;
const EMPTY = new Float64Array(0);

/** A finding's keys, in order (then `inner` when it has one). */
const KEYS = [
  'schema',
  'id',
  'time',
  'rule',
  'severity',
  'source',
  'token',
  'header',
  'claims',
  'classification',
  'status',
  'risks',
  'frameworks',
  'action',
];
/** The same, for a finding with an inner (nested) token. */
const KEYS_INNER = [...KEYS, 'inner'];
/** Templates a worker keeps; past that, findings travel whole. */
const MAX_TEMPLATES = 4096;
/** Source shapes a worker keeps (the engine makes a handful); past that, findings travel whole. */
const MAX_SHAPES = 256;

/** Worker side. */
export class FindingPacker {
  /** Templates by header object; with each, its token's keys (in order), listed once. */
  private readonly byHeader = new Map<object, { id: number; t: Template; tokenKeys: string[] }[]>();
  private count = 0;
  private readonly shapes = new Map<string, Shape>();
  /** The shape the last finding had: most findings of a job have the same (compared key by key). */
  private lastShape: Shape | undefined;

  /** `countOnly`: the findings are only counted, not written (see above). */
  pack(findings: readonly AnyFinding[], countOnly = false): PackedFindings {
    if (countOnly) return this.packCounted(findings);
    const out: PackedFindings = { templates: [], shapes: [], strings: [], flat: EMPTY, whole: [] };
    const { strings } = out;
    // Numbers in a typed array: cloned as one block, and written without an array growing push by push.
    let flat = new Float64Array(findings.length * 12 + 16);
    let n = 0;
    const indexOf = new Map<string, number>();
    // The string last seen in each place of a finding (time, context, encoding, each source key) and
    // its index: most findings repeat the last one's, which then costs a comparison, not a lookup.
    const lastString: string[] = [];
    const lastIndex: number[] = [];
    const str = (v: string, place: number): number => {
      if (lastString[place] === v) return lastIndex[place]!;
      let i = indexOf.get(v);
      if (i === undefined) {
        i = strings.push(v) - 1;
        indexOf.set(v, i);
      }
      lastString[place] = v;
      lastIndex[place] = i;
      return i;
    };
    for (const f of findings) {
      const shape = 'token' in f ? this.shapeOf(f as Finding, out.shapes) : undefined;
      const id = shape !== undefined ? this.templateOf(f as Finding, out.templates) : undefined;
      const encoding = shape !== undefined ? (f as Finding).token.encoding : [];
      // Room for this finding's numbers: template, id, time, shape, values, count, encodings, context.
      const room = 6 + (shape?.keys.length ?? 0) + encoding.length;
      if (n + room > flat.length) {
        const grown = new Float64Array(Math.max(flat.length * 2, n + room));
        grown.set(flat.subarray(0, n));
        flat = grown;
      }
      if (shape === undefined || id === undefined) {
        flat[n++] = WHOLE;
        out.whole.push(f);
        continue;
      }
      const { source, token } = f as Finding;
      flat[n++] = id;
      flat[n++] = strings.push(f.id) - 1;
      flat[n++] = str(f.time, 0);
      flat[n++] = shape.id;
      const { keys, numbers } = shape;
      for (let k = 0; k < keys.length; k++) {
        const v = source[keys[k] as keyof SourceRef] as string | number;
        flat[n++] = numbers & (1 << k) ? (v as number) : str(v as string, 3 + k);
      }
      flat[n++] = encoding.length;
      for (const e of encoding) flat[n++] = str(e, 2);
      flat[n++] = str(token.context, 1);
    }
    out.flat = flat.slice(0, n);
    return out;
  }

  private packCounted(findings: readonly AnyFinding[]): PackedFindings {
    const out: PackedFindings = {
      templates: [],
      shapes: [],
      strings: [],
      flat: EMPTY,
      whole: [],
      counted: true,
    };
    const flat = new Float64Array(findings.length);
    let n = 0;
    for (const f of findings) {
      const id = 'token' in f ? this.templateOf(f as Finding, out.templates) : undefined;
      if (id === undefined) {
        flat[n++] = WHOLE;
        out.whole.push(f);
      } else flat[n++] = id;
    }
    out.flat = flat;
    return out;
  }

  /**
   * The finding's source shape, when every value of its source, encodings and context are strings or
   * numbers (so they travel flat and come back the same); undefined otherwise.
   */
  private shapeOf(f: Finding, fresh: [number, string[], number][]): Shape | undefined {
    const { source, token } = f;
    if (typeof source !== 'object' || source === null || Object.getPrototypeOf(source) !== Object.prototype)
      return undefined;
    if (typeof f.id !== 'string' || typeof f.time !== 'string') return undefined;
    if (typeof token !== 'object' || token === null || typeof token.context !== 'string') return undefined;
    if (!Array.isArray(token.encoding)) return undefined;
    for (const e of token.encoding) if (typeof e !== 'string') return undefined;
    const last = this.lastShape;
    if (last !== undefined && keysAre(source, last.keys)) {
      // Most findings of a job have the last one's source keys: checked key by key as they are listed,
      // without an array of them made for each finding.
      const numbers = numberBits(source, last.keys);
      if (numbers < 0) return undefined;
      if (numbers === last.numbers) return last;
    }
    const keys = Object.keys(source);
    if (keys.length > 30) return undefined;
    const numbers = numberBits(source, keys);
    if (numbers < 0) return undefined;
    const sig = `${numbers}:${keys.join(',')}`;
    let shape = this.shapes.get(sig);
    if (shape === undefined) {
      if (this.shapes.size >= MAX_SHAPES) return undefined;
      shape = { id: this.shapes.size, keys, numbers };
      this.shapes.set(sig, shape);
      fresh.push([shape.id, keys, numbers]);
    }
    this.lastShape = shape;
    return shape;
  }

  private templateOf(f: Finding, fresh: [number, Template][]): number | undefined {
    if (!keysAre(f, f.inner === undefined ? KEYS : KEYS_INNER)) return undefined;
    if (typeof f.header !== 'object' || f.header === null) return undefined;
    const known = this.byHeader.get(f.header);
    for (const c of known ?? []) if (sameAnalysis(c.t, c.tokenKeys, f)) return c.id;
    if (this.count >= MAX_TEMPLATES) return undefined;
    const t: Template = {
      schema: f.schema,
      rule: f.rule,
      severity: f.severity,
      token: f.token,
      header: f.header,
      claims: f.claims,
      classification: f.classification,
      status: f.status,
      risks: f.risks,
      frameworks: f.frameworks,
      action: f.action,
    };
    if (f.inner !== undefined) t.inner = f.inner;
    const id = this.count++;
    const tokenKeys = Object.keys(f.token);
    if (known === undefined) this.byHeader.set(f.header, [{ id, t, tokenKeys }]);
    else known.push({ id, t, tokenKeys });
    fresh.push([id, t]);
    return id;
  }
}

/** A source's keys and which of their values are numbers, numbered per worker. */
interface Shape {
  id: number;
  keys: string[];
  /** Bit k set: the k-th value is a number (else a string). */
  numbers: number;
}

/**
 * Which of `source`'s values under `keys` are numbers (bit k set: the k-th; the others are strings), or
 * -1 when one is neither (the finding then travels whole). At most 30 keys.
 */
function numberBits(source: SourceRef, keys: readonly string[]): number {
  let numbers = 0;
  for (let k = 0; k < keys.length; k++) {
    const v = source[keys[k] as keyof SourceRef];
    if (typeof v === 'number') numbers |= 1 << k;
    else if (typeof v !== 'string') return -1;
  }
  return numbers;
}

function sameAnalysis(t: Template, tokenKeys: readonly string[], f: Finding): boolean {
  return (
    t.schema === f.schema &&
    t.rule === f.rule &&
    t.severity === f.severity &&
    t.action === f.action &&
    t.header === f.header &&
    t.claims === f.claims &&
    t.classification === f.classification &&
    t.status === f.status &&
    t.risks === f.risks &&
    t.frameworks === f.frameworks &&
    t.inner === f.inner &&
    sameTokenBase(t.token, tokenKeys, f.token)
  );
}

/** Same keys in the same order, same values but for encoding and context (scalars, compared as such). */
function sameTokenBase(a: Finding['token'], ka: readonly string[], b: Finding['token']): boolean {
  let i = 0;
  for (const k in b) {
    if (k !== ka[i]) return false;
    i++;
    if (k === 'encoding' || k === 'context') continue;
    const va = (a as unknown as Record<string, unknown>)[k];
    if (va !== (b as unknown as Record<string, unknown>)[k] || (typeof va === 'object' && va !== null))
      return false;
  }
  return i === ka.length && 'encoding' in a && 'context' in a;
}

/**
 * `o`'s enumerable keys, own and inherited, are `keys`, in that order: its own keys are exactly those
 * (an inherited one makes it differ, and the finding then travels whole). No array is made.
 */
function keysAre(o: object, keys: readonly string[]): boolean {
  let i = 0;
  for (const k in o) {
    if (k !== keys[i]) return false;
    i++;
  }
  return i === keys.length;
}

/** Pool side, one per worker (templates are numbered per worker, and arrive before their first use). */
export class FindingUnpacker {
  private readonly templates = new Map<number, Template>();
  private readonly shapes = new Map<number, { keys: string[]; numbers: number }>();

  /**
   * A message packed for counting: the findings that travelled whole, and the analyses of the others
   * (one per finding; the summary reads nothing else).
   */
  unpackCounted(packed: PackedFindings): { findings: AnyFinding[]; counted: FindingAnalysis[] } {
    for (const [id, t] of packed.templates) this.templates.set(id, t);
    const { flat, whole } = packed;
    const counted: FindingAnalysis[] = [];
    let w = 0;
    for (let i = 0; i < flat.length; i++) {
      const tid = flat[i]!;
      if (tid === WHOLE) {
        if (w++ >= whole.length) throw new Error('packed findings: fewer whole findings than marked');
        continue;
      }
      const t = Number.isInteger(tid) ? this.templates.get(tid) : undefined;
      if (t === undefined) throw new Error(`finding template ${tid} never arrived`);
      counted.push(t);
    }
    if (w !== whole.length) throw new Error('packed findings: more whole findings than marked');
    return { findings: whole, counted };
  }

  unpack(packed: PackedFindings): AnyFinding[] {
    if (packed.counted === true) throw new Error('packed findings: packed for counting only');
    for (const [id, t] of packed.templates) this.templates.set(id, t);
    for (const [id, keys, numbers] of packed.shapes) this.shapes.set(id, { keys, numbers });
    const { flat, strings, whole } = packed;
    const str = (i: number): string => {
      const v = strings[i];
      if (v === undefined) throw new Error('packed findings: a string index out of range');
      return v;
    };
    const out: AnyFinding[] = [];
    let w = 0;
    for (let i = 0; i < flat.length; ) {
      const tid = flat[i++]!;
      if (tid !== WHOLE && !Number.isInteger(tid)) throw new Error('packed findings: not a template number');
      if (tid === WHOLE) {
        const f = whole[w++];
        if (f === undefined) throw new Error('packed findings: fewer whole findings than marked');
        out.push(f);
        continue;
      }
      const id = str(flat[i++]!);
      const time = str(flat[i++]!);
      const shape = this.shapes.get(flat[i++]!);
      if (shape === undefined) throw new Error('packed findings: a source shape never arrived');
      const { keys, numbers } = shape;
      const source: Record<string, string | number> = {};
      for (let k = 0; k < keys.length; k++) {
        const v = flat[i++]!;
        source[keys[k]!] = numbers & (1 << k) ? v : str(v);
      }
      const n = flat[i++]!;
      const encoding: string[] = [];
      for (let e = 0; e < n; e++) encoding.push(str(flat[i++]!));
      const context = str(flat[i++]!) as Finding['token']['context'];
      out.push(
        this.build(
          tid,
          id,
          time,
          source as unknown as SourceRef,
          encoding as Finding['token']['encoding'],
          context,
        ),
      );
    }
    if (w !== whole.length) throw new Error('packed findings: more whole findings than marked');
    return out;
  }

  private build(
    tid: number,
    id: string,
    time: string,
    source: SourceRef,
    encoding: Finding['token']['encoding'],
    context: Finding['token']['context'],
  ): Finding {
    const t = this.templates.get(tid);
    if (t === undefined) throw new Error(`finding template ${tid} never arrived`);
    const f: Finding = {
      schema: t.schema,
      id,
      time,
      rule: t.rule,
      severity: t.severity,
      source,
      token: { ...t.token, encoding, context },
      header: t.header,
      claims: t.claims,
      classification: t.classification,
      status: t.status,
      risks: t.risks,
      frameworks: t.frameworks,
      action: t.action,
    };
    if (t.inner !== undefined) f.inner = t.inner;
    return f;
  }
}
