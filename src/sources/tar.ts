// tar input as a sequence of members. A member's body must be read in order and completely before the
// next header can be parsed, so this reader drains whatever the callback leaves unread; a failure of
// the tar itself (truncation, bad header) is thrown, a failure inside a member is the callback's to handle.
import tar from 'tar-stream';
import type { TarHeader } from '../sinks/tar.ts';
import { ProcessingError } from '../util/errors.ts';

export type TarMemberHandler = (
  header: TarHeader,
  body: AsyncIterable<Uint8Array>,
  archive: { readonly broken: boolean },
) => Promise<void>;

export async function readTar(input: AsyncIterable<Uint8Array>, onMember: TarMemberHandler): Promise<void> {
  const extract = tar.extract();
  let feedError: unknown;
  const feeding = (async () => {
    for await (const chunk of input) {
      if (!extract.write(chunk)) await new Promise<void>((r) => extract.once('drain', () => r()));
      if (extract.destroyed) return;
    }
    extract.end(undefined);
  })().catch((err: unknown) => {
    feedError = err;
    extract.destroy(err as Error);
  });
  const state = {
    get broken() {
      return feedError !== undefined || extract.destroyed || extract.destroying;
    },
  };
  try {
    for await (const entry of extract) {
      const it = entry[Symbol.asyncIterator]();
      let finished = false;
      const next = async (): Promise<IteratorResult<Uint8Array>> => {
        if (finished) return { done: true, value: undefined };
        const r = await it.next();
        if (r.done) finished = true;
        return r as IteratorResult<Uint8Array>;
      };
      // Never destroy the member stream early: tar-stream would destroy the whole archive with it.
      const body: AsyncIterable<Uint8Array> = {
        [Symbol.asyncIterator]: () => ({ next, return: async () => ({ done: true, value: undefined }) }),
      };
      try {
        await onMember(entry.header as TarHeader, body, state);
      } finally {
        while (!finished && !state.broken) await next();
      }
    }
  } catch (err) {
    throw describeTarError(feedError ?? err);
  } finally {
    if (!extract.destroyed) extract.destroy();
    await feeding;
  }
  if (feedError !== undefined) throw describeTarError(feedError);
}

function describeTarError(err: unknown): unknown {
  const message = (err as Error)?.message ?? '';
  if (message === 'Unexpected end of data') {
    return new ProcessingError(
      'ERR_TRUNCATED',
      'truncated tar archive (unexpected end of data); re-copy or re-download it',
    );
  }
  if (message.startsWith('Invalid tar header')) {
    return new ProcessingError('ERR_CORRUPT', `corrupt tar archive (${message})`);
  }
  return err;
}
