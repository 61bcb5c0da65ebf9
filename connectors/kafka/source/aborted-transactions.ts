// read_committed on the reader's side. The broker stops a read_committed fetch at the last stable
// offset but still returns the records of transactions that were aborted before it, with the list of
// those transactions; dropping them is the consumer's job, and we have no kafkajs consumer to do it.
import type { FetchedMessage, FetchedPartition } from '../client';

/** The key of an abort marker (a control record): version 0, type 0 = ABORT. */
const ABORT_MARKER = Buffer.from([0, 0, 0, 0]);

/** Drops records of aborted transactions (kafkajs's consumer does the same: filterAbortedMessages). */
export function filterAborted(messages: FetchedMessage[], aborted: FetchedPartition['abortedTransactions']): FetchedMessage[] {
  if (!aborted || aborted.length === 0) return messages;
  const remaining = [...aborted].sort((a, b) => Number(a.firstOffset) - Number(b.firstOffset));
  const open = new Set<string>();
  return messages.filter((m) => {
    while (remaining.length > 0 && Number(m.offset) >= Number(remaining[0]!.firstOffset)) open.add(remaining.shift()!.producerId);
    const ctx = m.batchContext;
    if (!ctx) return true;
    if (m.isControlRecord && m.key && Buffer.from(m.key).subarray(0, 4).equals(ABORT_MARKER)) { open.delete(ctx.producerId); return false; }
    return !(open.has(ctx.producerId) && ctx.inTransaction);
  });
}
