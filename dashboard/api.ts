/**
 * The job manager's REST API as the dashboard reads it (the shapes of jobmanager/http/views.ts,
 * the fields the page uses), and the token for the calls that change something.
 *
 * Reads need no token. A mutation (cancel, savepoint, stop) sends `Authorization: Bearer <token>`;
 * the page asks for the token when it first needs it and keeps it in sessionStorage only: it is gone
 * when the tab closes and never written anywhere else.
 */

export type JobState = 'CREATED' | 'RUNNING' | 'FAILING' | 'FAILED' | 'CANCELLING' | 'CANCELED' | 'FINISHED' | 'RESTARTING';
export const JOB_STATES: readonly JobState[] = ['CREATED', 'RUNNING', 'FAILING', 'FAILED', 'CANCELLING', 'CANCELED', 'FINISHED', 'RESTARTING'];
export const TERMINAL: ReadonlySet<string> = new Set(['FINISHED', 'FAILED', 'CANCELED']);

export interface ClusterOverview {
  taskmanagers: number;
  'slots-total': number;
  'slots-available': number;
  'jobs-running': number;
  'jobs-finished': number;
  'jobs-cancelled': number;
  'jobs-failed': number;
  'rlink-version': string;
}

export interface JobOverview {
  jid: string;
  name: string;
  state: JobState;
  'start-time': number;
  'end-time': number;
  duration: number;
  attempt: number;
  restarts: number;
  error?: string;
  tasks: Record<string, number>;
}

export interface TaskMetrics {
  'read-records': number;
  'write-records': number;
  'records-written': number;
  'read-bytes': number;
  'write-bytes': number;
  'backpressure-ms': number;
  watermark: number | null;
  numRecordsInPerSecond?: number | null;
  numRecordsOutPerSecond?: number | null;
  numRecordsWrittenPerSecond?: number | null;
  busyTimeMsPerSecond?: number | null;
  backPressuredTimeMsPerSecond?: number | null;
  idleTimeMsPerSecond?: number | null;
}

export interface Subtask { subtask: number; status: string; name: string | null; taskmanager: string | null; metrics: TaskMetrics }

export interface Vertex {
  id: string;
  name: string;
  parallelism: number;
  status: string;
  tasks: Record<string, number>;
  metrics: TaskMetrics;
  backpressureLevel?: 'ok' | 'low' | 'high' | null;
  subtasks: Subtask[];
}

export interface JobGraphEdge { id: string; sourceVertex: string; targetVertex: string; partitioning: string }
export interface JobGraphVertex { id: string; name: string; parallelism: number; inputs: JobGraphEdge[] }

export interface JobDetails {
  jid: string;
  name: string;
  state: JobState;
  'start-time': number;
  'end-time': number;
  duration: number;
  now: number;
  attempt: number;
  restarts: number;
  'waiting-for-slots': boolean;
  error?: string;
  errorCode?: string;
  vertices: Vertex[];
  plan: { jobGraph: { vertices: JobGraphVertex[] } };
}

export interface CheckpointEntry {
  id: number;
  status: 'COMPLETED' | 'FAILED' | 'IN_PROGRESS';
  is_savepoint: boolean;
  trigger_timestamp: number;
  latest_ack_timestamp?: number;
  end_to_end_duration?: number;
  state_size?: number;
  external_path?: string;
  num_subtasks?: number;
  num_acknowledged_subtasks?: number;
  failure_timestamp?: number;
  failure_message?: string;
}

export interface Stat { min: number; max: number; avg: number }

export interface Checkpoints {
  counts: { restored: number; total: number; in_progress: number; completed: number; failed: number };
  summary: { end_to_end_duration: Stat; state_size: Stat };
  latest: {
    completed: CheckpointEntry | null;
    savepoint: CheckpointEntry | null;
    failed: CheckpointEntry | null;
    restored: { id: number; restore_timestamp: number; external_path: string } | null;
  };
  history: CheckpointEntry[];
}

export interface ExceptionEntry {
  exceptionName: string;
  stacktrace: string;
  timestamp: number;
  taskName: string | null;
  taskManagerId: string | null;
  attempt: number;
}

export interface Exceptions {
  'root-exception': string | null;
  timestamp: number | null;
  exceptionHistory: { entries: ExceptionEntry[]; truncated: boolean };
}

export interface SubtaskBackpressure {
  subtask: number;
  backpressureLevel: 'ok' | 'low' | 'high';
  ratio: number;
  busyRatio: number;
  idleRatio: number;
}

export interface Backpressure {
  status: 'ok' | 'deprecated';
  backpressureLevel: 'ok' | 'low' | 'high' | null;
  'end-timestamp': number | null;
  subtasks: SubtaskBackpressure[];
}

export interface MemoryReport { rss: number; heapUsed: number; heapTotal: number; physical: number; free: number }

export interface TaskManager {
  id: string;
  slotsNumber: number;
  freeSlots: number;
  dataAddress: string | null;
  timeSinceLastHeartbeat: number;
  registeredAt: number;
  memory?: MemoryReport | null;
}

/** A REST failure: the status and the job manager's message (`{ errors: [...] }`). */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { errors?: unknown };
    if (Array.isArray(body.errors) && typeof body.errors[0] === 'string') message = body.errors[0];
  } catch { /* not JSON: keep the status line */ }
  return new ApiError(res.status, message);
}

/** GET a JSON read (no token). */
export async function getJson<T>(path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'the job manager cannot be reached');
  }
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

const TOKEN_KEY = 'rlink.token';

/** The cluster token of this tab, if the user gave it. */
export function token(): string | null {
  try { return sessionStorage.getItem(TOKEN_KEY); } catch { return null; }
}

/** Keeps the token for this tab only (sessionStorage); null forgets it. */
export function setToken(t: string | null): void {
  try {
    if (t === null || t.trim() === '') sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, t.trim());
  } catch { /* storage disabled: the token is asked for again next time */ }
  window.dispatchEvent(new Event('rlink:token'));
}

/** A call that changes something, with the token; a 401 forgets the token (it was wrong). */
export async function mutate<T>(method: 'POST' | 'PATCH', path: string, body?: unknown): Promise<T> {
  const t = token();
  if (t === null) throw new ApiError(401, 'this needs the cluster token');
  const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${t}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, cache: 'no-store', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch {
    throw new ApiError(0, 'the job manager cannot be reached');
  }
  if (res.status === 401) setToken(null);
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

export const jobPath = (id: string) => `/jobs/${encodeURIComponent(id)}`;
