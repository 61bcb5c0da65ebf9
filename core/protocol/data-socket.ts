/**
 * The data sockets' wire contract (the shuffle between task managers): where a producer connects,
 * what the handshake carries, and what a close means. Frames on the socket: data-frames.ts.
 *
 * Every slot worker of a task manager owns its data sockets: it runs its own data server and opens
 * its own connections, so records go worker to worker without passing any main thread. A task
 * manager advertises one data address (`--data-port`); there a slot directory tells where each
 * slot's worker listens:
 *
 *   producer worker ── GET /slots/<n>  Authorization: Bearer <token> ─────▶ consumer TM (main thread)
 *                   ◀─ 200 {"address":"ws://10.0.0.5:41234"} ──────────────   (503 while the slot starts,
 *                                                                               404 for no such slot)
 *   producer worker ── GET /data  Upgrade: websocket ──────────────────────▶ consumer worker
 *                      Authorization: Bearer <token>        (401 without)
 *                      x-rlink-taskmanager: <producer's task manager id>   (400 without)
 *                      x-rlink-data-frames: <DATA_FRAME_VERSION>  (400 for another version)
 *                      x-rlink-data-address: <producer worker's own address>
 *                   ◀─ 101, x-rlink-taskmanager: <consumer's task manager id>
 *   producer ══ batch / element frames ══▶ consumer,  producer ◀══ credit frames ══ consumer
 *
 * One connection per pair of workers, opened by the producing side on first use; it carries every
 * channel between them. Close codes: 1001 a worker or task manager stopping; 1002 a malformed frame
 * or a peer breaking flow control (the receiver names why in the reason). Either way the channels it
 * carried lost data, and the job attempts that used them fail.
 */
export const DATA_SOCKET_PATH = '/data';
/** `GET /slots/<n>` on a task manager's data address: where slot n's worker takes data connections. */
export const SLOT_DIRECTORY_PATH = '/slots/';
export const TASKMANAGER_HEADER = 'x-rlink-taskmanager';
export const DATA_ADDRESS_HEADER = 'x-rlink-data-address';
export const FRAME_VERSION_HEADER = 'x-rlink-data-frames';

export const DATA_CLOSE = {
  goingAway: 1001,
  malformed: 1002,
} as const;

/** The slot directory's answer. */
export interface SlotAddress { address: string }

/** Where the directory of the task manager at data address `ws://host:port` serves slot `slot`. */
export function slotDirectoryUrl(taskManagerAddress: string, slot: number): string {
  const u = new URL(taskManagerAddress);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = `${SLOT_DIRECTORY_PATH}${slot}`;
  return u.toString();
}

/** Header values must be plain printable ASCII. */
export function headerSafe(s: string): string { return s.replace(/[^\x20-\x7e]/g, '_'); }
