// Value detectors: what a claim value looks like (an e-mail, a private IP, an AWS key...).
// Every detector is a hand-written scanner, linear in the value (each bounded to
// MAX_SCAN characters first): claim values are attacker-controlled, so no regular expression
// with backtracking ever sees one.
import type { ClaimCategory } from '../model.ts';
import { compileGlob, GLOB_MAX_TEXT, type Glob } from './glob.ts';
import type { Checker, Path } from './schema.ts';

/** Characters of a value the detectors look at; the rest of a longer value is not scanned. */
export const MAX_SCAN = 4096;

export const DETECTOR_KINDS = [
  'email',
  'phone',
  'ip',
  'host',
  'guid',
  'prefix',
  'contains',
  'entropy',
  'jwt',
] as const;
export type DetectorKind = (typeof DETECTOR_KINDS)[number];

export const CHARSETS = ['alnum', 'upper_alnum', 'base64', 'base64url', 'hex', 'word', 'slack'] as const;
export type Charset = (typeof CHARSETS)[number];

export interface ValueDetector {
  readonly id: string;
  readonly kind: DetectorKind;
  readonly category: ClaimCategory;
  /** `unmatched`: only for claims that no name or pointer rule classified. */
  readonly appliesTo: 'all' | 'unmatched';
  /** The category this value has, or undefined when the detector does not fire. */
  detect(value: string, name: string | undefined): ClaimCategory | undefined;
}

// ---- character classes (char codes) ----

const isDigit = (c: number) => c >= 48 && c <= 57;
const isUpper = (c: number) => c >= 65 && c <= 90;
const isLower = (c: number) => c >= 97 && c <= 122;
const isAlnum = (c: number) => isDigit(c) || isUpper(c) || isLower(c);
const isHex = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const isB64url = (c: number) => isAlnum(c) || c === 45 || c === 95;

const CHARSET_TEST: Record<Charset, (c: number) => boolean> = {
  alnum: isAlnum,
  upper_alnum: (c) => isDigit(c) || isUpper(c),
  base64: (c) => isAlnum(c) || c === 43 || c === 47 || c === 61,
  base64url: isB64url,
  hex: isHex,
  word: (c) => isAlnum(c) || c === 95,
  slack: (c) => isAlnum(c) || c === 45,
};

// RFC 5322 atext plus the dot.
const LOCAL_EXTRA = new Set("!#$%&'*+/=?^_`{|}~.-".split('').map((ch) => ch.charCodeAt(0)));
const isLocalChar = (c: number) => isAlnum(c) || LOCAL_EXTRA.has(c);
const isHostChar = (c: number) => isAlnum(c) || c === 45 || c === 46 || c === 95;

function bounded(value: string): string {
  return value.length > MAX_SCAN ? value.slice(0, MAX_SCAN) : value;
}

// ---- host names ----

/** A DNS name: labels of letters, digits, `-` (and `_` for service names), with a letter TLD. */
export function isDomainName(host: string, needDot = true): boolean {
  if (host.length === 0 || host.length > 253) return false;
  let labelStart = 0;
  let dots = 0;
  for (let i = 0; i <= host.length; i++) {
    const c = i < host.length ? host.charCodeAt(i) : 46;
    if (c === 46) {
      const len = i - labelStart;
      if (len === 0 || len > 63) return false;
      if (host.charCodeAt(labelStart) === 45 || host.charCodeAt(i - 1) === 45) return false;
      if (i < host.length) dots++;
      labelStart = i + 1;
    } else if (!isAlnum(c) && c !== 45 && c !== 95) return false;
  }
  if (needDot && dots === 0) return false;
  const tld = host.slice(host.lastIndexOf('.') + 1);
  for (let i = 0; i < tld.length; i++)
    if (!isUpper(tld.charCodeAt(i)) && !isLower(tld.charCodeAt(i))) return dots === 0;
  return true;
}

/**
 * The host a value names: the authority of a URL (`scheme://[user@]host[:port]/...`), or the value
 * itself when it is a bare `host[:port]`. Lower-case, without a trailing dot; IPv6 without brackets.
 */
export function hostOf(raw: string): { host: string; url: boolean } | undefined {
  const value = raw.trim();
  const scheme = value.indexOf('://');
  let authority: string;
  let url = false;
  if (scheme > 0 && scheme <= 32) {
    for (let i = 0; i < scheme; i++) {
      const c = value.charCodeAt(i);
      if (!isAlnum(c) && c !== 43 && c !== 45 && c !== 46) return undefined;
    }
    url = true;
    let end = scheme + 3;
    while (end < value.length && end - scheme < 300) {
      const c = value.charCodeAt(end);
      if (c === 47 || c === 63 || c === 35) break;
      end++;
    }
    authority = value.slice(scheme + 3, end);
    const at = authority.lastIndexOf('@');
    if (at >= 0) authority = authority.slice(at + 1);
  } else {
    if (value.length > 300) return undefined;
    authority = value;
  }
  let host: string;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) return undefined;
    host = authority.slice(1, close);
  } else {
    const colon = authority.indexOf(':');
    // More than one colon without brackets: a bare IPv6 address, kept whole.
    host = colon >= 0 && authority.indexOf(':', colon + 1) < 0 ? authority.slice(0, colon) : authority;
    if (colon >= 0 && host === authority && !url) return parseIPv6(host) ? { host, url } : undefined;
    if (colon >= 0 && host !== authority) {
      const port = authority.slice(colon + 1);
      for (let i = 0; i < port.length; i++) if (!isDigit(port.charCodeAt(i))) return undefined;
    }
  }
  host = host.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0) return undefined;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (!isHostChar(c) && c !== 58 && c !== 37) return undefined;
  }
  return { host, url };
}

// ---- IP addresses ----

export function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (p.length === 0 || p.length > 3) return undefined;
    for (let i = 0; i < p.length; i++) if (!isDigit(p.charCodeAt(i))) return undefined;
    if (p.length > 1 && p[0] === '0') return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

/** 16 bytes, or undefined. Accepts `::` compression, an embedded IPv4 tail and a `%zone`. */
export function parseIPv6(input: string): number[] | undefined {
  let s = input;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (s.length < 2 || s.length > 45 || !s.includes(':')) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const g = items[i]!;
      if (i === items.length - 1 && g.includes('.')) {
        const v4 = parseIPv4(g);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (g.length === 0 || g.length > 4) return undefined;
      for (let j = 0; j < g.length; j++) if (!isHex(g.charCodeAt(j))) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** Loopback, RFC 1918, link-local, CGNAT, unique-local, unspecified: addresses that say "inside". */
export function isPrivateIp(bytes: readonly number[]): boolean {
  if (bytes.length === 4) {
    const [a, b] = bytes as [number, number];
    return (
      a === 10 ||
      a === 127 ||
      a === 0 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  const zeroPrefix = (n: number) => bytes.slice(0, n).every((x) => x === 0);
  if (zeroPrefix(15) && (bytes[15] === 1 || bytes[15] === 0)) return true;
  if (zeroPrefix(10) && bytes[10] === 0xff && bytes[11] === 0xff) return isPrivateIp(bytes.slice(12));
  const first = bytes[0]!;
  return (first & 0xfe) === 0xfc || (first === 0xfe && (bytes[1]! & 0xc0) === 0x80);
}

function ipOf(piece: string): number[] | undefined {
  return parseIPv4(piece) ?? parseIPv6(piece);
}

/** IPs a value holds: the whole value, a URL host, `ip:port`, or a short list (`X-Forwarded-For`). */
function ipsIn(value: string): number[][] {
  const out: number[][] = [];
  const trimmed = value.trim();
  if (trimmed.length > 400) return out;
  const pieces = trimmed.split(/[\s,;]+/, 9);
  for (const piece of pieces.slice(0, 8)) {
    const direct = ipOf(piece);
    if (direct) {
      out.push(direct);
      continue;
    }
    const h = hostOf(piece);
    const ip = h ? ipOf(h.host) : undefined;
    if (ip) out.push(ip);
  }
  return out;
}

// ---- e-mail, phone, GUID ----

/** True when the value contains an addr-spec `local@domain.tld`. Looks at the first 16 `@`. */
export function containsEmail(value: string): boolean {
  let from = 0;
  for (let n = 0; n < 16; n++) {
    const at = value.indexOf('@', from);
    if (at < 0) return false;
    from = at + 1;
    let l = at;
    while (l > 0 && at - l < 64 && isLocalChar(value.charCodeAt(l - 1))) l--;
    if (l === at || value.charCodeAt(l) === 46) continue;
    // `scheme://user@host`: URL userinfo, not an address.
    const scheme = value.lastIndexOf('://', at);
    if (scheme >= 0) {
      const slash = value.indexOf('/', scheme + 3);
      if (slash < 0 || slash > at) continue;
    }
    let r = at + 1;
    while (r < value.length && r - at <= 253 && isHostChar(value.charCodeAt(r))) r++;
    let domain = value.slice(at + 1, r);
    while (domain.endsWith('.')) domain = domain.slice(0, -1);
    if (isDomainName(domain)) return true;
  }
  return false;
}

export function isPhoneNumber(raw: string): boolean {
  let s = raw.trim();
  if (s.startsWith('tel:')) s = s.slice(4);
  if (s.length < 7 || s.length > 32) return false;
  let digits = 0;
  let groups = 0;
  let prevSep = true;
  const plus = s.charCodeAt(0) === 43;
  for (let i = plus ? 1 : 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) {
      digits++;
      if (prevSep) groups++;
      prevSep = false;
    } else if (c === 32 || c === 45 || c === 46 || c === 40 || c === 41) prevSep = true;
    else return false;
  }
  if (digits < 7 || digits > 15) return false;
  // Without a `+`, ask for the grouping people write (415 555-0123): a bare number is a number.
  return plus ? digits >= 8 : digits >= 10 && groups >= 3;
}

export function isGuid(raw: string): boolean {
  let s = raw.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  if (s.startsWith('urn:uuid:')) s = s.slice(9);
  if (s.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23 ? c !== 45 : !isHex(c)) return false;
  }
  return true;
}

/** Shannon entropy in bits per character over the first MAX_SCAN characters. */
export function entropy(value: string): number {
  const s = bounded(value);
  if (s.length === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

// ---- token shapes ----

/** A run of `test` characters starting at `from`, at most `cap` long (cap + 1 means "longer"). */
function runLength(s: string, from: number, test: (c: number) => boolean, cap: number): number {
  let i = from;
  while (i < s.length && i - from <= cap && test(s.charCodeAt(i))) i++;
  return i - from;
}

function findShape(
  s: string,
  prefixes: readonly string[],
  test: (c: number) => boolean,
  min: number,
  max: number,
): boolean {
  for (const prefix of prefixes) {
    let from = 0;
    for (;;) {
      const at = s.indexOf(prefix, from);
      if (at < 0) break;
      from = at + 1;
      if (at > 0 && isAlnum(s.charCodeAt(at - 1))) continue;
      const body = runLength(s, at + prefix.length, test, max);
      if (body >= min && body <= max) return true;
      if (body > max) from = at + prefix.length + body;
    }
  }
  return false;
}

/** `eyJ` + base64url, a dot, base64url: a JWS or JWE header and a second segment. */
function containsJwt(s: string): boolean {
  let from = 0;
  for (;;) {
    const at = s.indexOf('eyJ', from);
    if (at < 0) return false;
    const first = runLength(s, at, isB64url, MAX_SCAN);
    const dot = at + first;
    if (first >= 10 && s.charCodeAt(dot) === 46 && runLength(s, dot + 1, isB64url, 10) >= 10) return true;
    from = dot + 1;
  }
}

// ---- the YAML shape ----

export interface DetectorSpec {
  id: string;
  kind: DetectorKind;
  category: ClaimCategory;
  appliesTo: 'all' | 'unmatched';
  names?: string[];
  privateCategory?: ClaimCategory;
  suffixes?: string[];
  singleLabel?: boolean;
  prefixes?: string[];
  charset?: Charset;
  minLength?: number;
  maxLength?: number;
  literals?: string[];
  ignoreCase?: boolean;
  minEntropy?: number;
}

const COMMON_KEYS = ['id', 'kind', 'category', 'applies_to', 'names', 'description'] as const;
const KIND_KEYS: Record<DetectorKind, readonly string[]> = {
  email: [],
  phone: [],
  ip: ['private_category'],
  host: ['suffixes', 'single_label'],
  guid: [],
  prefix: ['prefixes', 'charset', 'min_length', 'max_length'],
  contains: ['literals', 'ignore_case'],
  entropy: ['min_length', 'min_entropy'],
  jwt: [],
};
const KIND_REQUIRED: Partial<Record<DetectorKind, readonly string[]>> = {
  host: ['suffixes'],
  prefix: ['prefixes', 'charset', 'min_length', 'max_length'],
  contains: ['literals'],
  entropy: ['names', 'min_length', 'min_entropy'],
};

export const ID_SYNTAX = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

export function parseDetector(
  c: Checker,
  value: unknown,
  path: Path,
  checkCategory: (v: unknown, p: Path) => ClaimCategory,
): DetectorSpec {
  const kind = c.oneOf(
    c.map(value, path, [...COMMON_KEYS, ...Object.values(KIND_KEYS).flat()])['kind'],
    [...path, 'kind'],
    DETECTOR_KINDS,
  );
  const m = c.map(
    value,
    path,
    [...COMMON_KEYS, ...KIND_KEYS[kind]],
    ['id', 'kind', 'category', ...(KIND_REQUIRED[kind] ?? [])],
  );
  if (m['description'] !== undefined) c.string(m['description'], [...path, 'description']);
  const spec: DetectorSpec = {
    id: c.string(m['id'], [...path, 'id'], ID_SYNTAX, 'a detector id (a-z, 0-9, _ . -)'),
    kind,
    category: checkCategory(m['category'], [...path, 'category']),
    appliesTo:
      m['applies_to'] === undefined
        ? 'all'
        : c.oneOf(m['applies_to'], [...path, 'applies_to'], ['all', 'unmatched']),
  };
  if (m['names'] !== undefined) spec.names = c.stringList(m['names'], [...path, 'names']);
  if (m['private_category'] !== undefined)
    spec.privateCategory = checkCategory(m['private_category'], [...path, 'private_category']);
  if (m['suffixes'] !== undefined) {
    spec.suffixes = c.stringList(
      m['suffixes'],
      [...path, 'suffixes'],
      /^\.?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
      'a DNS suffix',
    );
  }
  if (m['single_label'] !== undefined)
    spec.singleLabel = c.boolean(m['single_label'], [...path, 'single_label']);
  if (m['prefixes'] !== undefined) {
    spec.prefixes = c.stringList(
      m['prefixes'],
      [...path, 'prefixes'],
      /^.{2,64}$/,
      'a prefix of 2 to 64 characters',
    );
  }
  if (m['charset'] !== undefined) spec.charset = c.oneOf(m['charset'], [...path, 'charset'], CHARSETS);
  if (m['min_length'] !== undefined)
    spec.minLength = c.number(m['min_length'], [...path, 'min_length'], 0, MAX_SCAN);
  if (m['max_length'] !== undefined)
    spec.maxLength = c.number(m['max_length'], [...path, 'max_length'], 1, MAX_SCAN);
  if (spec.minLength !== undefined && spec.maxLength !== undefined && spec.maxLength < spec.minLength) {
    throw c.src.error([...path, 'max_length'], 'max_length is below min_length');
  }
  if (m['literals'] !== undefined) {
    spec.literals = c.stringList(
      m['literals'],
      [...path, 'literals'],
      /^.{1,256}$/s,
      'a literal of 1 to 256 characters',
    );
  }
  if (m['ignore_case'] !== undefined) spec.ignoreCase = c.boolean(m['ignore_case'], [...path, 'ignore_case']);
  if (m['min_entropy'] !== undefined)
    spec.minEntropy = c.number(m['min_entropy'], [...path, 'min_entropy'], 0, 16);
  return spec;
}

/** Any of the (ignore-case) name globs matches: the name is folded once, not once per glob. */
function matchesName(names: readonly Glob[], name: string): boolean {
  const folded = name.length <= GLOB_MAX_TEXT ? name.toLowerCase() : name;
  for (const g of names) if (g.matchFolded(folded)) return true;
  return false;
}

export function compileDetector(spec: DetectorSpec): ValueDetector {
  const { category } = spec;
  const names: Glob[] | undefined = spec.names?.map((n) => compileGlob(n, true));
  let test: (value: string) => ClaimCategory | undefined;
  switch (spec.kind) {
    case 'email':
      test = (v) => (containsEmail(v) ? category : undefined);
      break;
    case 'phone':
      test = (v) => (isPhoneNumber(v) ? category : undefined);
      break;
    case 'guid':
      test = (v) => (isGuid(v) ? category : undefined);
      break;
    case 'ip': {
      const privateCategory = spec.privateCategory ?? category;
      test = (v) => {
        const ips = ipsIn(v);
        if (ips.length === 0) return undefined;
        return ips.every(isPrivateIp) ? privateCategory : category;
      };
      break;
    }
    case 'host': {
      const suffixes = (spec.suffixes ?? []).map((s) => s.toLowerCase().replace(/^\./, ''));
      const single = spec.singleLabel ?? false;
      test = (v) => {
        const h = v.length > 400 ? undefined : hostOf(v);
        if (!h) return undefined;
        const { host } = h;
        const ip = ipOf(host);
        if (ip) return isPrivateIp(ip) ? category : undefined;
        // A bare value needs a dot to be a host name ("local" is a word); a URL names one anyway.
        if (!isDomainName(host, !h.url)) return undefined;
        if (single && h.url && !host.includes('.')) return category;
        for (const s of suffixes) {
          if (host === s || (host.endsWith(s) && host.charCodeAt(host.length - s.length - 1) === 46))
            return category;
        }
        return undefined;
      };
      break;
    }
    case 'prefix': {
      const charTest = CHARSET_TEST[spec.charset ?? 'alnum'];
      const min = spec.minLength ?? 1;
      const max = spec.maxLength ?? MAX_SCAN;
      const prefixes = spec.prefixes ?? [];
      test = (v) => (findShape(v, prefixes, charTest, min, max) ? category : undefined);
      break;
    }
    case 'contains': {
      const ignoreCase = spec.ignoreCase ?? false;
      const literals = (spec.literals ?? []).map((l) => (ignoreCase ? l.toLowerCase() : l));
      test = (v) => {
        const s = ignoreCase ? v.toLowerCase() : v;
        return literals.some((l) => s.includes(l)) ? category : undefined;
      };
      break;
    }
    case 'entropy': {
      const min = spec.minLength ?? 8;
      const minEntropy = spec.minEntropy ?? 3;
      test = (v) => (v.length >= min && entropy(v) >= minEntropy ? category : undefined);
      break;
    }
    case 'jwt':
      test = (v) => (containsJwt(v) ? category : undefined);
      break;
  }
  return {
    id: spec.id,
    kind: spec.kind,
    category,
    appliesTo: spec.appliesTo,
    detect(value, name) {
      if (names && (name === undefined || !matchesName(names, name))) return undefined;
      return test(bounded(value));
    },
  };
}
