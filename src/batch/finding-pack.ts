// Findings on their way from a worker to the pool. Structured cloning rebuilds every object of every
// message: with tokens repeated across a file (a log full of the same bearer token), most of a finding
// is its token's analysis (header, claims, classification, status, risks, frameworks), the same
// objects for every sighting, and the pool spent more on rebuilding them than the worker on finding
// them. So a worker sends each analysis once, as a template, and then only what differs per finding
// (id, time, source, encoding, context); the pool keeps the templates of each worker and builds the
// findings back with the same keys in the same order, sharing the analysis parts between findings as
// the engine itself does in the calling thread. Anything not of the exact expected shape (error
// findings, a field the engine may add one day) travels as it is.
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

/** [template, id, time, source, encoding, context] */
type Packed = [number, string, string, SourceRef, Finding['token']['encoding'], Finding['token']['context']];

export interface PackedFindings {
  /** Templates first used in this message. */
  templates: [number, Template][];
  items: (Packed | AnyFinding)[];
}

const KEYS =
  'schema,id,time,rule,severity,source,token,header,claims,classification,status,risks,frameworks,action';
const KEYS_INNER = `${KEYS},inner`;
/** Templates a worker keeps; past that, findings travel whole. */
const MAX_TEMPLATES = 4096;

/** Worker side. */
export class FindingPacker {
  private readonly byHeader = new Map<object, { id: number; t: Template }[]>();
  private count = 0;

  pack(findings: readonly AnyFinding[]): PackedFindings {
    const out: PackedFindings = { templates: [], items: [] };
    for (const f of findings) {
      const id = 'token' in f ? this.templateOf(f, out.templates) : undefined;
      if (id === undefined) out.items.push(f);
      else {
        const t = (f as Finding).token;
        out.items.push([id, f.id, f.time, f.source, t.encoding, t.context]);
      }
    }
    return out;
  }

  private templateOf(f: Finding, fresh: [number, Template][]): number | undefined {
    const keys = Object.keys(f).join(',');
    if (keys !== KEYS && keys !== KEYS_INNER) return undefined;
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

  unpack(packed: PackedFindings): AnyFinding[] {
    for (const [id, t] of packed.templates) this.templates.set(id, t);
    return packed.items.map((x) => (Array.isArray(x) ? this.build(x) : x));
  }

  private build([tid, id, time, source, encoding, context]: Packed): Finding {
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
