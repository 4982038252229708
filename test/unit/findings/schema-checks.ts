// Structural checks for the three foreign formats, written from the specifications: each returns
// the list of problems (empty when the record is well-formed), so a failure names the field.
import type { JsonValue } from '../../../src/model.ts';

type Obj = { [k: string]: JsonValue };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => Number.isInteger(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isStrArray = (v: unknown): boolean => Array.isArray(v) && v.every(isStr);

// ---------------------------------------------------------------- OCSF 1.4.0 Detection Finding

/** Every attribute the formatter may emit, all defined for class 2004 in OCSF 1.4.0. */
const OCSF_ATTRIBUTES = new Set([
  'activity_id',
  'activity_name',
  'category_uid',
  'category_name',
  'class_uid',
  'class_name',
  'type_uid',
  'type_name',
  'severity_id',
  'severity',
  'status_id',
  'status',
  'is_alert',
  'time',
  'message',
  'metadata',
  'finding_info',
  'risk_level_id',
  'risk_level',
  'risk_details',
  'resources',
  'evidences',
  'unmapped',
]);
const EVIDENCE_AT_LEAST_ONE = [
  'actor',
  'api',
  'connection_info',
  'data',
  'database',
  'databucket',
  'device',
  'dst_endpoint',
  'email',
  'file',
  'process',
  'query',
  'src_endpoint',
  'url',
  'user',
];

export function ocsfProblems(o: unknown): string[] {
  const p: string[] = [];
  if (!isObj(o)) return ['not an object'];
  for (const k of Object.keys(o)) if (!OCSF_ATTRIBUTES.has(k)) p.push(`unknown attribute ${k}`);
  // Required by the class and base event.
  if (!isInt(o.activity_id) || ![0, 1, 2, 3, 99].includes(o.activity_id)) p.push('activity_id');
  if (o.category_uid !== 2) p.push('category_uid');
  if (o.class_uid !== 2004) p.push('class_uid');
  if (!isInt(o.type_uid) || o.type_uid !== 2004 * 100 + Number(o.activity_id)) p.push('type_uid');
  if (!isInt(o.severity_id) || ![0, 1, 2, 3, 4, 5, 6, 99].includes(o.severity_id)) p.push('severity_id');
  if (!isInt(o.time) || o.time < 0) p.push('time (epoch ms)');
  const md = o.metadata;
  if (!isObj(md)) p.push('metadata');
  else {
    if (!isStr(md.version) || !/^\d+\.\d+\.\d+$/.test(md.version)) p.push('metadata.version');
    const prod = md.product;
    if (!isObj(prod)) p.push('metadata.product');
    else {
      if (!isStr(prod.name)) p.push('metadata.product.name');
      if (!isStr(prod.vendor_name)) p.push('metadata.product.vendor_name');
      if (prod.version !== undefined && !isStr(prod.version)) p.push('metadata.product.version');
    }
    if (md.uid !== undefined && !isStr(md.uid)) p.push('metadata.uid');
    if (md.correlation_uid !== undefined && !isStr(md.correlation_uid)) p.push('metadata.correlation_uid');
  }
  const fi = o.finding_info;
  if (!isObj(fi)) p.push('finding_info');
  else {
    if (!isStr(fi.uid)) p.push('finding_info.uid');
    if (fi.title !== undefined && !isStr(fi.title)) p.push('finding_info.title');
    if (fi.desc !== undefined && !isStr(fi.desc)) p.push('finding_info.desc');
    if (fi.types !== undefined && !isStrArray(fi.types)) p.push('finding_info.types');
    if (fi.data_sources !== undefined && !isStrArray(fi.data_sources)) p.push('finding_info.data_sources');
    if (fi.created_time !== undefined && !isInt(fi.created_time)) p.push('finding_info.created_time');
    const an = fi.analytic;
    if (an !== undefined) {
      if (!isObj(an) || !isInt(an.type_id) || ![0, 1, 2, 3, 4, 99].includes(an.type_id)) {
        p.push('finding_info.analytic.type_id');
      }
    }
  }
  // Typed when present.
  for (const k of [
    'activity_name',
    'category_name',
    'class_name',
    'type_name',
    'severity',
    'status',
    'message',
  ]) {
    if (o[k] !== undefined && !isStr(o[k])) p.push(k);
  }
  if (
    o.status_id !== undefined &&
    (!isInt(o.status_id) || ![0, 1, 2, 3, 4, 5, 6, 99].includes(o.status_id))
  ) {
    p.push('status_id');
  }
  if (o.is_alert !== undefined && typeof o.is_alert !== 'boolean') p.push('is_alert');
  if (
    o.risk_level_id !== undefined &&
    (!isInt(o.risk_level_id) || ![0, 1, 2, 3, 4, 99].includes(o.risk_level_id))
  ) {
    p.push('risk_level_id');
  }
  if (o.resources !== undefined) {
    if (!Array.isArray(o.resources)) p.push('resources');
    else
      o.resources.forEach((r, i) => {
        if (!isObj(r) || (!isStr(r.uid) && !isStr(r.name))) p.push(`resources[${i}] needs uid or name`);
        else if (r.data !== undefined && !isObj(r.data)) p.push(`resources[${i}].data`);
      });
  }
  if (!Array.isArray(o.evidences)) p.push('evidences');
  else
    o.evidences.forEach((e, i) => {
      if (!isObj(e) || !EVIDENCE_AT_LEAST_ONE.some((k) => e[k] !== undefined))
        p.push(`evidences[${i}] is empty`);
      else if (e.file !== undefined) {
        const f = e.file;
        if (!isObj(f) || !isStr(f.name) || !isInt(f.type_id))
          p.push(`evidences[${i}].file needs name and type_id`);
      }
    });
  if (o.unmapped !== undefined && !isObj(o.unmapped)) p.push('unmapped');
  return p;
}

// ---------------------------------------------------------------- SARIF 2.1.0

const LEVELS = ['none', 'note', 'warning', 'error'];
/** RFC 3986 URI reference characters (percent-encoded everything else). */
const URI_REF = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?#%]*$/;

export function sarifProblems(doc: unknown): string[] {
  const p: string[] = [];
  if (!isObj(doc)) return ['not an object'];
  if (doc.version !== '2.1.0') p.push('version');
  if (!isStr(doc.$schema)) p.push('$schema');
  if (!Array.isArray(doc.runs) || doc.runs.length === 0) return [...p, 'runs'];
  doc.runs.forEach((run, r) => {
    if (!isObj(run)) {
      p.push(`runs[${r}]`);
      return;
    }
    const driver = isObj(run.tool) ? run.tool.driver : undefined;
    if (!isObj(driver) || !isStr(driver.name) || driver.name === '') {
      p.push(`runs[${r}].tool.driver.name`);
      return;
    }
    for (const k of ['informationUri', 'version']) {
      if (driver[k] !== undefined && !isStr(driver[k])) p.push(`runs[${r}].tool.driver.${k}`);
    }
    const rules = driver.rules ?? [];
    if (!Array.isArray(rules)) {
      p.push(`runs[${r}].tool.driver.rules`);
      return;
    }
    const ids: string[] = [];
    rules.forEach((rule, i) => {
      if (!isObj(rule) || !isStr(rule.id)) {
        p.push(`rules[${i}].id`);
        return;
      }
      if (ids.includes(rule.id)) p.push(`rules[${i}].id duplicated`);
      ids.push(rule.id);
      if (
        rule.shortDescription !== undefined &&
        !(isObj(rule.shortDescription) && isStr(rule.shortDescription.text))
      ) {
        p.push(`rules[${i}].shortDescription.text`);
      }
      if (rule.help !== undefined && !(isObj(rule.help) && isStr(rule.help.text)))
        p.push(`rules[${i}].help.text`);
      const dc = rule.defaultConfiguration;
      if (dc !== undefined && !(isObj(dc) && isStr(dc.level) && LEVELS.includes(dc.level))) {
        p.push(`rules[${i}].defaultConfiguration.level`);
      }
    });
    if (!Array.isArray(run.results)) {
      p.push(`runs[${r}].results`);
      return;
    }
    run.results.forEach((res, i) => {
      const at = `runs[${r}].results[${i}]`;
      if (!isObj(res)) {
        p.push(at);
        return;
      }
      if (!isObj(res.message) || !isStr(res.message.text)) p.push(`${at}.message.text`);
      if (!isStr(res.ruleId) || !ids.includes(res.ruleId)) p.push(`${at}.ruleId not in rules`);
      if (res.ruleIndex !== undefined && (!isInt(res.ruleIndex) || ids[res.ruleIndex] !== res.ruleId)) {
        p.push(`${at}.ruleIndex`);
      }
      if (res.level !== undefined && !(isStr(res.level) && LEVELS.includes(res.level))) p.push(`${at}.level`);
      // SARIF 3.27.9: a result whose kind is not "fail" has level "none".
      if (res.kind !== undefined && res.kind !== 'fail' && res.level !== 'none') p.push(`${at}.kind/level`);
      if (res.partialFingerprints !== undefined) {
        const pf = res.partialFingerprints;
        if (!isObj(pf) || !Object.values(pf).every(isStr)) p.push(`${at}.partialFingerprints`);
      }
      if (res.properties !== undefined && !isObj(res.properties)) p.push(`${at}.properties`);
      if (res.locations === undefined) return;
      if (!Array.isArray(res.locations)) {
        p.push(`${at}.locations`);
        return;
      }
      res.locations.forEach((loc, j) => {
        const l = `${at}.locations[${j}]`;
        if (!isObj(loc)) {
          p.push(l);
          return;
        }
        if (loc.physicalLocation === undefined && loc.logicalLocations === undefined) p.push(`${l} is empty`);
        const pl = loc.physicalLocation;
        if (pl !== undefined) {
          if (!isObj(pl) || !isObj(pl.artifactLocation)) {
            p.push(`${l}.physicalLocation.artifactLocation`);
            return;
          }
          const uri = pl.artifactLocation.uri;
          if (uri !== undefined && !(isStr(uri) && URI_REF.test(uri)))
            p.push(`${l} uri ${JSON.stringify(uri)}`);
          if (pl.region !== undefined) {
            const reg = pl.region;
            if (!isObj(reg) || !isInt(reg.startLine) || reg.startLine < 1) p.push(`${l}.region.startLine`);
          }
        }
        const ll = loc.logicalLocations;
        if (ll !== undefined && !(Array.isArray(ll) && ll.length > 0 && ll.every(isObj))) {
          p.push(`${l}.logicalLocations`);
        }
      });
    });
  });
  return p;
}

// ---------------------------------------------------------------- ECS 8.x

/** The ECS fields the formatter may emit (all defined in ECS 8.x); `jwt_redactor.*` is our namespace. */
const ECS_FIELDS = new Set([
  '@timestamp',
  'ecs.version',
  'message',
  'event.kind',
  'event.category',
  'event.type',
  'event.action',
  'event.outcome',
  'event.severity',
  'event.id',
  'event.dataset',
  'event.module',
  'rule.id',
  'rule.name',
  'rule.description',
  'rule.ruleset',
  'observer.product',
  'observer.vendor',
  'observer.version',
  'file.path',
  'file.name',
  'log.file.path',
  'related.hash',
  'error.code',
  'error.message',
]);
const EVENT_KINDS = ['alert', 'asset', 'enrichment', 'event', 'metric', 'state', 'pipeline_error', 'signal'];
/** ECS allowed `event.type` values per `event.category`, for the categories we use. */
const EVENT_TYPES: Record<string, string[]> = {
  intrusion_detection: ['allowed', 'denied', 'info'],
};

function flatten(v: JsonValue, prefix: string, out: Map<string, JsonValue>): void {
  if (isObj(v)) for (const [k, x] of Object.entries(v)) flatten(x, prefix === '' ? k : `${prefix}.${k}`, out);
  else out.set(prefix, v);
}

export function ecsProblems(doc: unknown): string[] {
  const p: string[] = [];
  if (!isObj(doc)) return ['not an object'];
  const fields = new Map<string, JsonValue>();
  for (const [k, v] of Object.entries(doc)) if (k !== 'jwt_redactor') flatten(v, k, fields);
  for (const name of fields.keys()) if (!ECS_FIELDS.has(name)) p.push(`not an ECS field: ${name}`);
  if (!isStr(fields.get('@timestamp'))) p.push('@timestamp');
  if (!isStr(fields.get('ecs.version'))) p.push('ecs.version');
  const kind = fields.get('event.kind');
  if (!isStr(kind) || !EVENT_KINDS.includes(kind)) p.push('event.kind');
  const sev = fields.get('event.severity');
  if (!isInt(sev)) p.push('event.severity must be a number');
  const cats = fields.get('event.category');
  const types = fields.get('event.type');
  if (cats !== undefined) {
    if (!Array.isArray(cats) || !cats.every((c) => isStr(c) && c in EVENT_TYPES)) p.push('event.category');
    else if (
      !Array.isArray(types) ||
      !types.every((t) => cats.some((c) => EVENT_TYPES[c as string]?.includes(t as string)))
    ) {
      p.push('event.type not allowed for event.category');
    }
  }
  const outcome = fields.get('event.outcome');
  if (outcome !== undefined && !['failure', 'success', 'unknown'].includes(outcome as string))
    p.push('event.outcome');
  const hashes = fields.get('related.hash');
  if (hashes !== undefined && !isStrArray(hashes)) p.push('related.hash');
  if (doc.jwt_redactor !== undefined && !isObj(doc.jwt_redactor)) p.push('jwt_redactor');
  return p;
}
