// Writes a tar archive member by member. Member sizes are known because members arrive spooled.
import tar, { type Header, type Pack } from 'tar-stream';
import { type ByteSink, pump } from './byte-sink.ts';
import type { Spool } from './spool.ts';

/** A member header as read by tar-stream; everything but `size` is written back as it was. */
export type TarHeader = Partial<Header> & Pick<Header, 'name'>;

export interface TarWriter {
  /** A regular file: header as read (size is replaced), content from the spool. */
  addFile(header: TarHeader, content: Spool): Promise<void>;
  /** Directories, links, devices, fifos: the header alone. */
  addEntry(header: TarHeader): Promise<void>;
  finish(): Promise<void>;
}

export function createTarWriter(out: ByteSink): TarWriter {
  const pack: Pack = tar.pack();
  const pumping = pump(pack as unknown as AsyncIterable<Uint8Array>, out).catch((err: unknown) => {
    pack.destroy(err as Error);
    throw err;
  });
  pumping.catch(() => undefined);
  // A failed output (disk full) stops the pack: the entries waiting then fail with its error instead of
  // waiting forever. Only those waiting are held here: a reaction per entry on `pumping` itself, which
  // settles when the archive ends, kept every member's streams and closures until then (50,000 members
  // of a .tar.gz: 434 MB).
  const waiting = new Set<(err: Error) => void>();
  let failure: Error | undefined;
  pumping.catch((err: unknown) => {
    failure = err as Error;
    for (const fail of waiting) fail(failure);
    waiting.clear();
  });

  const entry = (header: TarHeader, body?: AsyncIterable<Uint8Array>): Promise<void> => {
    if (failure !== undefined) return Promise.reject(failure);
    let fail: ((err: Error) => void) | undefined;
    const done = new Promise<void>((resolve, reject) => {
      fail = reject;
      waiting.add(reject);
      const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
      if (body === undefined) return;
      (async () => {
        for await (const chunk of body) {
          if (!sink.write(chunk)) await new Promise<void>((r) => sink.once('drain', () => r()));
        }
        sink.end(undefined);
      })().catch((err: unknown) => {
        sink.destroy(err as Error);
        reject(err);
      });
    });
    return done.finally(() => waiting.delete(fail!));
  };

  return {
    addFile(header, content) {
      const { size: _size, ...rest } = header;
      return entry({ ...rest, type: 'file', size: content.size }, content.read());
    },
    addEntry: (header) => entry({ ...header, size: 0 }),
    async finish() {
      pack.finalize();
      await pumping;
    },
  };
}
