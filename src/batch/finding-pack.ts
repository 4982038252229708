// Findings on their way from a worker to the pool. Structured cloning rebuilds every object of every
// message: with tokens repeated across a file (a log full of the same bearer token), most of a finding
// is its token's analysis (header, claims, classification, status, risks, frameworks), the same
// objects for every sighting, and the pool spent more on rebuilding them than the worker on finding
// them. So a worker sends each analysis once, as a template, and then only what differs per finding
// (id, time, source, encoding, context); the pool keeps the templates of each worker and builds the
// findings back with the same keys in the same order, sharing the analysis parts between findings as
// the engine itself does in the calling thread. Anything not of the exact expected shape (error
// findings, a field the engine may add one day) travels as it is.
// What differs per finding travels flat, as one array of strings and numbers (the source's key list
// sent once per shape, like a template): structured cloning rebuilds an object or array per value
// otherwise (a source object and an encoding array per finding), and the pool, which has the
// ordered output, the writing and every other finding to see to, spent more on reading those back
// than on anything else a worker's result asks of it.
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
  /** Source shapes (a source's keys, in order) first used in this message. */
  shapes: [number, string[]][];
  /**
   * The findings, in order, flattened: per finding its template, id, time, source shape, the source's
   * values (as many as the shape has keys), the number of encodings, the encodings, the context; or
   * WHOLE, standing for the next finding of `whole`.
   */
  flat: (string | number)[];
  /** Findings not of the expected shape, as they are. */
  whole: AnyFinding[];
}

const WHOLE = -1;

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
/** Templates a worker keeps; past that, findings travel whole. */
const MAX_TEMPLATES = 4096;
/** Source shapes a worker keeps (the engine makes a handful); past that, findings travel whole. */
const MAX_SHAPES = 256;

/** Worker side. */
export class FindingPacker {
  private readonly byHeader = new Map<object, { id: number; t: Template }[]>();
  private count = 0;
  private readonly shapes = new Map<string, Shape>();
  /** The shape the last finding had: most findings of a job have the same (compared key by key, no string). */
  private lastShape: Shape | undefined;

  pack(findings: readonly AnyFinding[]): PackedFindings {
    const out: PackedFindings = { templates: [], shapes: [], flat: [], whole: [] };
    const flat = out.flat;
    for (const f of findings) {
      const shape = 'token' in f ? this.shapeOf(f as Finding, out.shapes) : undefined;
      const id = shape !== undefined ? this.templateOf(f as Finding, out.templates) : undefined;
      if (shape === undefined || id === undefined) {
        flat.push(WHOLE);
        out.whole.push(f);
        continue;
      }
      const { source, token } = f as Finding;
      flat.push(id, f.id, f.time, shape.id);
      for (const k of shape.keys) flat.push(source[k as keyof SourceRef]!);
      const encoding = token.encoding;
      flat.push(encoding.length);
      for (const e of encoding) flat.push(e);
      flat.push(token.context);
    }
    return out;
  }

  /**
   * The finding's source shape, when every value of its source, encodings and context are strings or
   * numbers (so they travel flat and come back the same); undefined otherwise.
   */
  private shapeOf(f: Finding, fresh: [number, string[]][]): Shape | undefined {
    const { source, token } = f;
    if (typeof source !== 'object' || source === null || Object.getPrototypeOf(source) !== Object.prototype)
      return undefined;
    if (typeof f.id !== 'string' || typeof f.time !== 'string') return undefined;
    if (typeof token !== 'object' || token === null || typeof token.context !== 'string') return undefined;
    if (!Array.isArray(token.encoding)) return undefined;
    for (const e of token.encoding) if (typeof e !== 'string') return undefined;
    const keys = Object.keys(source);
    for (const k of keys) {
      const v = source[k as keyof SourceRef];
      if (typeof v !== 'string' && typeof v !== 'number') return undefined;
    }
    const last = this.lastShape;
    if (last !== undefined && sameKeys(keys, last.keys)) return last;
    const sig = keys.join(',');
    let shape = this.shapes.get(sig);
    if (shape === undefined) {
      if (this.shapes.size >= MAX_SHAPES) return undefined;
      shape = { id: this.shapes.size, keys };
      this.shapes.set(sig, shape);
      fresh.push([shape.id, keys]);
    }
    this.lastShape = shape;
    return shape;
  }

  private templateOf(f: Finding, fresh: [number, Template][]): number | undefined {
    const keys = Object.keys(f);
    const inner = keys.length === KEYS.length + 1 && keys[KEYS.length] === 'inner';
    if (!(keys.length === KEYS.length || inner) || !sameKeys(keys, KEYS, KEYS.length)) return undefined;
    if (typeof f.header !== 'object' || f.header === null) return undefined;
    const known = this.byHeader.get(f.header);
    for (const c of known ?? []) if (sameAnalysis(c.t, f)) return c.id;
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
    if (known === undefined) this.byHeader.set(f.header, [{ id, t }]);
    else known.push({ id, t });
    fresh.push([id, t]);
    return id;
  }
}

/** A source's keys, numbered per worker. */
interface Shape {
  id: number;
  keys: string[];
}

/** The first `n` of `a` are `b`'s (all of them, and as many, without `n`). */
function sameKeys(a: readonly string[], b: readonly string[], n?: number): boolean {
  if (n === undefined) {
    if (a.length !== b.length) return false;
    n = a.length;
  }
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameAnalysis(t: Template, f: Finding): boolean {
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
    sameTokenBase(t.token, f.token)
  );
}

/** Same keys in the same order, same values but for encoding and context (scalars, compared as such). */
function sameTokenBase(a: Finding['token'], b: Finding['token']): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i]!;
    if (k !== kb[i]) return false;
    if (k === 'encoding' || k === 'context') continue;
    const va = (a as unknown as Record<string, unknown>)[k];
    if (va !== (b as unknown as Record<string, unknown>)[k] || (typeof va === 'object' && va !== null))
      return false;
  }
  return 'encoding' in a && 'context' in a;
}

/** Pool side, one per worker (templates are numbered per worker, and arrive before their first use). */
export class FindingUnpacker {
  private readonly templates = new Map<number, Template>();
  private readonly shapes = new Map<number, string[]>();

  unpack(packed: PackedFindings): AnyFinding[] {
    for (const [id, t] of packed.templates) this.templates.set(id, t);
    for (const [id, keys] of packed.shapes) this.shapes.set(id, keys);
    const { flat, whole } = packed;
    const out: AnyFinding[] = [];
    let w = 0;
    for (let i = 0; i < flat.length; ) {
      const tid = flat[i++] as number;
      if (tid === WHOLE) {
        const f = whole[w++];
        if (f === undefined) throw new Error('packed findings: fewer whole findings than marked');
        out.push(f);
        continue;
      }
      const id = flat[i++] as string;
      const time = flat[i++] as string;
      const keys = this.shapes.get(flat[i++] as number);
      if (keys === undefined) throw new Error('packed findings: a source shape never arrived');
      const source: Record<string, string | number> = {};
      for (const k of keys) source[k] = flat[i++]!;
      const n = flat[i++] as number;
      const encoding = flat.slice(i, i + n) as Finding['token']['encoding'];
      i += n;
      const context = flat[i++] as Finding['token']['context'];
      out.push(this.build(tid, id, time, source as unknown as SourceRef, encoding, context));
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
