// Findings leave the process as JSON. Every formatter builds its record from explicit picks of
// Finding fields and passes the result through `toJsonObject`, so the output is plain JSON
// (no undefined, NaN, -0, typed arrays or class instances) and never shares structure with the input.
import type { JsonObject, JsonValue } from '../model.ts';

/**
 * Deeper than this (counted from the record root), a value is replaced by a marker instead of
 * recursing further: a hostile token can nest its claims arbitrarily deep.
 */
const MAX_DEPTH = 100;
export const TOO_DEEP = '[nested too deep]';

/** A JSON copy of `value`; `undefined` where JSON has no representation (undefined, functions, symbols, class instances). */
export function toJson(value: unknown, depth = 0): JsonValue | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // -0 and non-finite numbers do not survive a JSON round trip unchanged.
      return Number.isFinite(value) ? value + 0 : null;
    case 'bigint':
      return value.toString();
    case 'object': {
      if (value === null) return null;
      if (depth >= MAX_DEPTH) return TOO_DEEP;
      if (Array.isArray(value)) return value.map((v) => toJson(v, depth + 1) ?? null);
      const proto: unknown = Object.getPrototypeOf(value);
      // Bytes (signatures, ciphertext) or other class instances are never finding content.
      if (proto !== Object.prototype && proto !== null) return undefined;
      return copyObject(value as Record<string, unknown>, depth);
    }
    default:
      return undefined;
  }
}

/** `toJson` for a record: the picks of a formatter, a header or a claims set. Keys keep their order. */
export function toJsonObject(value: Readonly<Record<string, unknown>>): JsonObject {
  return copyObject(value, 0);
}

function copyObject(value: Readonly<Record<string, unknown>>, depth: number): JsonObject {
  const out: JsonObject = {};
  for (const key of Object.keys(value)) {
    const v = toJson(value[key], depth + 1);
    if (v === undefined) continue;
    // A claim named "__proto__" (JSON.parse makes it an own property) must stay a property,
    // not become the prototype of the copy.
    if (key === '__proto__') {
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    } else {
      out[key] = v;
    }
  }
  return out;
}

/**
 * True when JSON.stringify writes `value` exactly as it writes `toJson(value)`: nested plain
 * objects (to `depth` levels) and arrays whose leaves are strings, booleans, numbers, null or
 * undefined (JSON.stringify and toJson agree on -0, NaN and on dropping undefined members). A
 * bigint, a class instance (a Date, a Buffer) or a function makes it false: toJson is needed.
 */
export function isPlainJson(value: unknown, depth = 3): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'number':
    case 'undefined':
      return true;
    case 'object': {
      if (value === null) return true;
      if (depth === 0) return false;
      if (Array.isArray(value)) {
        for (const v of value) if (v === undefined || !isPlainJson(v, depth - 1)) return false;
        return true;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key in value) {
        if (key === '__proto__' || !isPlainJson((value as Record<string, unknown>)[key], depth - 1))
          return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * JSON text for a record. U+2028 and U+2029 are escaped too: JSON allows them raw, but some
 * line-oriented log tooling splits on them, and a finding must stay one line in JSON Lines.
 */
export function serialize(value: JsonValue, indent?: number): string {
  const text = JSON.stringify(value, null, indent);
  // Most texts have neither (and a one-byte string cannot): two searches, no regex pass.
  if (!text.includes('\u2028') && !text.includes('\u2029')) return text;
  return text.replace(/[\u2028\u2029]/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
}
