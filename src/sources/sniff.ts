// Container detection by content (magic numbers), never by name: a `.gz` that is plain text is scanned
// as text, a log bundle without an extension is still opened as the tar it is.

export type Container = 'gzip' | 'tar' | 'zip' | 'none';

/** Compression we recognise but cannot open; its bytes are scanned raw and the user is told. */
export type UnsupportedContainer = 'bzip2' | 'xz' | 'zstd' | '7z';

/** How many head bytes detection wants (the tar magic sits at offset 257). */
export const SNIFF_BYTES = 64 * 1024;

export function detectContainer(head: Uint8Array): Container {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip';
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b) {
    // PK\3\4: a local file header; PK\5\6: an empty archive's end record.
    if ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6)) return 'zip';
  }
  if (head.length >= 262 && isTarHeader(head)) return 'tar';
  return 'none';
}

export function detectUnsupported(head: Uint8Array): UnsupportedContainer | undefined {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts(0x42, 0x5a, 0x68) && head[3] !== undefined && head[3] >= 0x31 && head[3] <= 0x39) return 'bzip2';
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return 'xz';
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return 'zstd';
  if (starts(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c)) return '7z';
  return undefined;
}

/** POSIX `ustar\0` or GNU `ustar  ` at 257, and a header checksum that adds up. */
function isTarHeader(h: Uint8Array): boolean {
  const magic = String.fromCharCode(...h.subarray(257, 262));
  if (magic !== 'ustar') return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] ?? 0);
  const stored = Number.parseInt(
    String.fromCharCode(...h.subarray(148, 156))
      .replace(/[\0 ]+/g, ' ')
      .trim(),
    8,
  );
  return stored === sum;
}

/** The name of the content inside a compressed file: `app.log.gz` -> `app.log`, `x.tgz` -> `x.tar`. */
export function innerName(name: string): string {
  const lower = name.toLowerCase();
  if (lower.endsWith('.tgz')) return name.slice(0, -4) + '.tar';
  if (lower.endsWith('.gz')) return name.slice(0, -3);
  if (lower.endsWith('.gzip')) return name.slice(0, -5);
  return name;
}
