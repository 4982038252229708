// Does an HS256/384/512 signature verify under a publicly known secret (patterns/weak-secrets.txt)?
//
// The list is a few hundred entries and the same token recurs in logs, so:
// - the verdict is cached per distinct (alg, signing input, signature) in a bounded LRU;
// - each secret's HMAC pads (key XOR ipad / opad, RFC 2104) are computed once, and a candidate
//   MAC is two one-shot `crypto.hash` calls with string output, about 3x cheaper than
//   createHmac() per secret, whose per-call object and Buffer allocation dominate for JWT-sized
//   inputs (see test/unit/classification/weak-secrets.test.ts for the measurement);
// - a candidate that equals the signature is confirmed with createHmac + timingSafeEqual.
// Comparing dictionary MACs with a signature the token itself carries leaks nothing: both sides
// are public, which is why the fast loop may compare strings.
import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../util/errors.ts';
import { Lru } from './lru.ts';

export type HmacAlg = 'HS256' | 'HS384' | 'HS512';

interface HashSpec {
  name: 'sha256' | 'sha384' | 'sha512';
  block: number;
  size: number;
}

const HASHES: Record<HmacAlg, HashSpec> = {
  HS256: { name: 'sha256', block: 64, size: 32 },
  HS384: { name: 'sha384', block: 128, size: 48 },
  HS512: { name: 'sha512', block: 128, size: 64 },
};

export function isHmacAlg(alg: unknown): alg is HmacAlg {
  return alg === 'HS256' || alg === 'HS384' || alg === 'HS512';
}

/**
 * Parses the weak-secrets text format: one secret per line, taken literally (only a trailing CR
 * is dropped). `#` starts a comment line; blank lines are skipped. A line `"..."` is a JSON string
 * (for the empty secret, spaces, a leading `#`); a line `base64:...` is raw bytes (base64 or
 * base64url), for published example keys such as RFC 7515's.
 */
export function parseWeakSecrets(text: string, file: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line === '' || line.startsWith('#')) continue;
    const where = { file, line: i + 1, field: 'secret' };
    if (line.startsWith('"')) {
      let s: unknown;
      try {
        s = JSON.parse(line);
      } catch {
        throw new ConfigError('a line starting with " must be one JSON string', where);
      }
      if (typeof s !== 'string')
        throw new ConfigError('a line starting with " must be one JSON string', where);
      out.push(Buffer.from(s, 'utf8'));
    } else if (line.startsWith('base64:')) {
      const b64 = line.slice(7);
      if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64))
        throw new ConfigError('base64: must be followed by base64', where);
      out.push(Buffer.from(b64, 'base64'));
    } else out.push(Buffer.from(line, 'utf8'));
  }
  return out;
}

interface Pads {
  ipad: Buffer[];
  /** Per secret: key ^ opad followed by room for the inner digest (the outer hash's input). */
  outer: Buffer[];
}

export interface WeakSecretOptions {
  /** Distinct signing inputs whose verdict is kept. */
  cacheSize?: number;
  /** Signing inputs longer than this are not checked (a megabyte token times the list is seconds). */
  maxInputBytes?: number;
}

export class WeakSecretChecker {
  readonly size: number;
  readonly #secrets: readonly Buffer[];
  readonly #pads = new Map<HmacAlg, Pads>();
  readonly #cache: Lru<string, boolean>;
  readonly #maxInput: number;

  constructor(secrets: readonly Uint8Array[], options: WeakSecretOptions = {}) {
    const seen = new Set<string>();
    const unique: Buffer[] = [];
    for (const s of secrets) {
      const b = Buffer.from(s);
      const k = b.toString('binary');
      if (!seen.has(k)) {
        seen.add(k);
        unique.push(b);
      }
    }
    this.#secrets = unique;
    this.size = unique.length;
    this.#cache = new Lru(options.cacheSize ?? 4096);
    this.#maxInput = options.maxInputBytes ?? 64 * 1024;
    this.#padsFor('HS256');
  }

  #padsFor(alg: HmacAlg): Pads {
    let pads = this.#pads.get(alg);
    if (pads) return pads;
    const { name, block } = HASHES[alg];
    pads = { ipad: [], outer: [] };
    for (const secret of this.#secrets) {
      const key = Buffer.alloc(block);
      (secret.length > block ? hash(name, secret, 'buffer') : secret).copy(key);
      const ipad = Buffer.allocUnsafe(block);
      const outer = Buffer.alloc(block + HASHES[alg].size);
      for (let j = 0; j < block; j++) {
        ipad[j] = key[j]! ^ 0x36;
        outer[j] = key[j]! ^ 0x5c;
      }
      pads.ipad.push(ipad);
      pads.outer.push(outer);
    }
    this.#pads.set(alg, pads);
    return pads;
  }

  /** Verdicts currently cached. */
  get cached(): number {
    return this.#cache.size;
  }

  /**
   * True when the signature verifies under a listed secret, false when under none, undefined when
   * not checked (the signature has the wrong length for the alg, or the input is too large).
   */
  check(alg: HmacAlg, input: Uint8Array, signature: Uint8Array): boolean | undefined {
    const spec = HASHES[alg];
    if (signature.length !== spec.size || input.length > this.#maxInput) return undefined;
    const sig = Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength);
    const key = alg + hash('sha256', Buffer.concat([sig, input]), 'binary');
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const verdict = this.#search(alg, spec, input, sig) >= 0;
    this.#cache.set(key, verdict);
    return verdict;
  }

  /** The index of the secret the signature verifies under, or -1. */
  #search(alg: HmacAlg, spec: HashSpec, input: Uint8Array, sig: Buffer): number {
    const { name, block } = spec;
    const { ipad, outer: outers } = this.#padsFor(alg);
    const want = sig.toString('binary');
    const inner = Buffer.allocUnsafe(block + input.length);
    inner.set(input, block);
    for (let i = 0; i < ipad.length; i++) {
      inner.set(ipad[i]!, 0);
      const outer = outers[i]!;
      outer.write(hash(name, inner, 'binary'), block, 'latin1');
      if (hash(name, outer, 'binary') === want) {
        const mac = createHmac(name, this.#secrets[i]!).update(input).digest();
        if (timingSafeEqual(mac, sig)) return i;
      }
    }
    return -1;
  }
}
