// What a reader shares with its fetcher and its offset requests. One object, mutated in place, so
// that all of them see the reader open and close at the same moment: the cluster is set by `open`
// and dropped by `close`, and `closed` stops every retry loop.
import type { ConnectorContext } from '../../../core/api/connector';
import type { InternalCluster } from '../client';
import type { ResolvedOptions } from './options';

export interface ReaderScope {
  readonly o: ResolvedOptions;
  readonly ctx: ConnectorContext;
  /** Names the source in messages: `kafka source (topic '…', brokers …)`. */
  readonly what: string;
  cluster: InternalCluster | undefined;
  closed: boolean;
}
