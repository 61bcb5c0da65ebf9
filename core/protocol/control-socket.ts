/**
 * The control socket's wire contract: where task managers connect, what they send in the handshake,
 * and what each close code means to the side that reads it. Both roles import these; neither
 * spells a literal of its own.
 *
 *   TM ── GET /taskmanager, Upgrade: websocket ─────────────────────────────▶ JM
 *         Authorization: Bearer <cluster token>        (401 without: final, the TM stops)
 *         x-rlink-taskmanager: <task manager id>
 *   JM ── 101 Switching Protocols ─────────────────────────────────────────▶ TM
 *         (503 + x-rlink-leader when this job manager is a standby: try the next address)
 *   TM ── {"type":"register","version":PROTOCOL_VERSION,…} ─────────────────▶ JM   first message
 *   JM ── {"type":"registered","leaderEpoch":n,…} ─────────────────────────▶ TM
 *   …     JSON text frames, one message each (control-messages.ts)
 *
 * Close codes, and what the task manager does on each:
 *
 *   code   sent by  meaning                                              task manager then
 *   1000   TM       the task manager stops                               —
 *   1001   JM       heartbeat timeout, or the job manager shuts down     reconnects with backoff
 *   1007   both     a malformed message (the reason names the field)     reconnects with backoff
 *   1008   JM       policy: register first, or replaced by a newer       reconnects with backoff
 *                   connection of the same task manager id
 *   4001   JM       another protocol version                             stops: retrying cannot help
 *   4002   JM       a task manager's declared slots are out of bounds    stops: its flags are wrong
 *   4003   both     a job manager of an older leader epoch (fenced)      tries the next address
 */
export const CONTROL_SOCKET_PATH = '/taskmanager';
export const TASKMANAGER_ID_HEADER = 'x-rlink-taskmanager';
/** On a standby job manager's refusal: the URL of the leader when it knows one. */
export const LEADER_HEADER = 'x-rlink-leader';

export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  malformed: 1007,
  policy: 1008,
  unsupportedProtocol: 4001,
  slotsOutOfBounds: 4002,
  staleLeader: 4003,
} as const;

/** Close codes after which a task manager must not reconnect to the same job manager. */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([CLOSE.unsupportedProtocol, CLOSE.slotsOutOfBounds]);

/** WebSocket close reasons are at most 123 bytes of UTF-8. */
export function closeReason(text: string): string {
  const b = Buffer.from(text);
  if (b.length <= 123) return text;
  let cut = 120;
  while (cut > 0 && (b[cut]! & 0xc0) === 0x80) cut--; // not inside a UTF-8 sequence
  return `${b.subarray(0, cut).toString()}...`;
}
