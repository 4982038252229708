// Globs without regular expressions: `*` matches any run of characters, `?` one character,
// everything else itself. Matching splits the pattern at its stars and places each piece at its
// leftmost possible position, which is correct for star-only wildcards and costs
// O(text x pattern) at worst: there is no backtracking to blow up on hostile claim names.

export interface Glob {
  readonly source: string;
  readonly ignoreCase: boolean;
  match(text: string): boolean;
  /** `match` for a text already lower-cased (ignore-case globs; saves folding it per glob). */
  matchFolded(text: string): boolean;
}

/** Texts longer than this never match a glob (claim names and values are bounded before matching). */
export const GLOB_MAX_TEXT = 4096;

function pieceAt(text: string, at: number, piece: string): boolean {
  if (at + piece.length > text.length) return false;
  for (let i = 0; i < piece.length; i++) {
    const p = piece.charCodeAt(i);
    if (p !== 63 /* ? */ && p !== text.charCodeAt(at + i)) return false;
  }
  return true;
}

function findPiece(text: string, from: number, limit: number, piece: string): number {
  if (!piece.includes('?')) {
    const at = text.indexOf(piece, from);
    return at >= 0 && at + piece.length <= limit ? at : -1;
  }
  for (let at = from; at + piece.length <= limit; at++) if (pieceAt(text, at, piece)) return at;
  return -1;
}

export function compileGlob(pattern: string, ignoreCase = false): Glob {
  const source = ignoreCase ? pattern.toLowerCase() : pattern;
  const pieces = source.split('*');
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  const starred = pieces.length > 1;
  const minLength = pieces.reduce((n, p) => n + p.length, 0);
  const matchFolded = (text: string): boolean => {
    if (text.length > GLOB_MAX_TEXT || text.length < minLength) return false;
    if (!starred) return text.length === first.length && pieceAt(text, 0, first);
    if (!pieceAt(text, 0, first)) return false;
    const end = text.length - last.length;
    if (!pieceAt(text, end, last)) return false;
    let at = first.length;
    for (let i = 1; i < pieces.length - 1; i++) {
      const piece = pieces[i]!;
      if (piece.length === 0) continue;
      const found = findPiece(text, at, end, piece);
      if (found < 0) return false;
      at = found + piece.length;
    }
    return at <= end;
  };
  return {
    source: pattern,
    ignoreCase,
    matchFolded,
    match: (input) => matchFolded(ignoreCase && input.length <= GLOB_MAX_TEXT ? input.toLowerCase() : input),
  };
}

/** True when `pattern` uses a wildcard; a pattern without one is an exact name. */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}
