// The progress line on stderr: bytes and files done, rate, ETA. Only on a terminal; redrawn at most
// four times a second and cleared before anything else (the summary) is written.
import type { TextOut } from './options.ts';

export interface Progress {
  /** Bytes read from the current inputs. */
  bytes(n: number): void;
  /** An input is done; `size` tops the byte count up to its size (zip reads it out of band). */
  fileDone(readBytes: number, size: number | undefined): void;
  stop(): void;
}

const INTERVAL_MS = 250;

export function createProgress(
  out: TextOut,
  enabled: boolean,
  total: { bytes: number | undefined; files: number },
  now: () => number = Date.now,
): Progress {
  if (!enabled) return { bytes: () => undefined, fileDone: () => undefined, stop: () => undefined };
  const started = now();
  let done = 0;
  let files = 0;
  let last = 0;
  let shown = false;
  const render = (force: boolean) => {
    const t = now();
    if (!force && t - last < INTERVAL_MS) return;
    last = t;
    const seconds = Math.max(0.001, (t - started) / 1000);
    const rate = done / seconds;
    const parts: string[] = [];
    if (total.bytes !== undefined && total.bytes > 0) {
      const fraction = Math.min(1, done / total.bytes);
      const width = 20;
      const filled = Math.round(fraction * width);
      parts.push(
        `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%`,
      );
      parts.push(`${formatBytes(done)}/${formatBytes(total.bytes)}`);
    } else {
      parts.push(formatBytes(done));
    }
    parts.push(`${files}/${total.files} files`);
    parts.push(`${formatBytes(rate)}/s`);
    if (total.bytes !== undefined && rate > 0 && done < total.bytes)
      parts.push(`ETA ${formatDuration((total.bytes - done) / rate)}`);
    let line = `scan ${parts.join('  ')}`;
    const columns = out.columns ?? 80;
    if (line.length > columns - 1) line = line.slice(0, columns - 1);
    out.write(`\r\x1b[2K${line}`);
    shown = true;
  };
  const timer = setInterval(() => render(true), INTERVAL_MS);
  timer.unref();
  return {
    bytes(n) {
      done += n;
      render(false);
    },
    fileDone(readBytes, size) {
      files++;
      if (size !== undefined && size > readBytes) done += size - readBytes;
      render(true);
    },
    stop() {
      clearInterval(timer);
      if (shown) out.write('\r\x1b[2K');
    },
  };
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 || u === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0
    ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`
    : `${m}:${String(sec).padStart(2, '0')}`;
}
