/**
 * The built-in connectors: `sources.file | generator | collection` and `sinks.file | print`.
 */
import { fileSource } from './file/source';
import { fileSink } from './file/sink';
import { generatorSource } from './generator/source';
import { collectionSource } from './collection/source';
import { printSink } from './print/sink';

export { fileSource, fileSink, generatorSource, collectionSource, printSink };
export type { FileSourceOptions, FileSourceState, FilePosition } from './file/source';
export type { FileSinkOptions, FileCommittable } from './file/sink';
export type { GeneratorSourceOptions, GeneratorSourceState } from './generator/source';
export type { CollectionSourceState } from './collection/source';
export type { PrintSinkOptions } from './print/sink';

/** Sources for `env.fromSource(...)`. */
export const sources = {
  /** JSON lines or CSV (with a header) from a file or a directory of files; bounded. */
  file: fileSource,
  /** Records made by `generate(i)`; bounded with `count`, optionally paced with `ratePerSecond`. */
  generator: generatorSource,
  /** The records of an array; bounded. */
  collection: collectionSource,
};

/** Sinks for `stream.sinkTo(...)`. */
export const sinks = {
  /** JSON lines to a file (parallelism 1) or a directory of part files; exactly once. */
  file: fileSink,
  /** JSON lines to stdout; not transactional. */
  print: printSink,
};
