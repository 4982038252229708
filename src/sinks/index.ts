// Where redacted bytes go: files (atomic, confined to --out-dir), stdout, archives, spools.
export {
  type ByteSink,
  endWritable,
  memorySink,
  nullSink,
  pump,
  writableSink,
  writeChunk,
} from './byte-sink.ts';
export {
  type FileSink,
  isSafeSegment,
  openAtomicFile,
  openOutputFile,
  prepareOutputRoot,
  resolveOutputFile,
} from './file.ts';
export { gzipSink } from './gzip.ts';
export { createSpool, type Spool } from './spool.ts';
export { createTarWriter, type TarHeader, type TarWriter } from './tar.ts';
export { createZipWriter, type ZipMemberOptions, type ZipWriter } from './zip.ts';
