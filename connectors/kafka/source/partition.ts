// One assigned partition as the reader tracks it. Two positions, because fetching runs ahead of
// reading: `position` (handed out, so checkpointed) trails `fetchOffset` (asked of the broker) by
// the chunks buffered between them.
import type { FetchedMessage } from '../client';

/** Fetched records of one partition not handed out yet. */
export interface Chunk {
  messages: FetchedMessage[];
  /** Next message to hand out. */
  i: number;
  /** The partition's position once the chunk is consumed (past filtered and control records too). */
  next: number;
}

export interface Part {
  readonly partition: number;
  readonly split: string;
  /** Next offset to hand out: what a checkpoint stores. */
  position: number;
  /** Next offset to fetch (ahead of `position` by what is buffered). */
  fetchOffset: number;
  /** Bounded: the offset the partition ends at. */
  end: number | undefined;
  chunks: Chunk[];
  finished: boolean;
  fetching: boolean;
  resetting: boolean;
  /** Bumped on a reset: a fetch answered for an older epoch is dropped. */
  epoch: number;
}
