/**
 * One error root for all of rlink. Every error carries a stable `code` (listed in docs/errors.md),
 * whether retrying may help, and the context it happened in. One table gives each code its HTTP
 * status (the REST API answers with it; the CLI maps an answer back to its code), and errors cross
 * every wire (REST bodies, control messages, worker threads) through one pair of functions,
 * {@link serializeError} and {@link deserializeError}.
 */
export const ERROR_CODES = {
  RLINK_CONFIG: { status: 400, description: 'a bad property, duration, option or configuration file' },
  RLINK_MISSING_PROP: { status: 400, description: 'props.get(key) on a key nobody set' },
  RLINK_APP_BUILD: { status: 400, description: "the user's defineApp/build threw, returned nothing usable, or took longer than job.build.timeout" },
  RLINK_APP_BUNDLE: { status: 400, description: 'esbuild could not bundle the app' },
  RLINK_GRAPH: { status: 400, description: 'an invalid dataflow (no sink, bad parallelism, ...)' },
  RLINK_SQL: { status: 400, description: 'a SQL statement that cannot be parsed or planned (the message names the line, the column and the token)' },
  RLINK_NONDETERMINISTIC_GRAPH: { status: 400, description: "build() made a different graph on a task manager than on the job manager" },
  RLINK_BAD_REQUEST: { status: 400, description: 'a malformed REST request: its body, its arguments, its method' },
  RLINK_CLI: { status: 400, description: 'the command line itself: an unknown flag, a missing argument' },
  RLINK_PROTOCOL: { status: 400, description: 'a malformed or unsupported message on a control or data socket' },
  RLINK_UNAUTHORIZED: { status: 401, description: 'a missing or wrong cluster token' },
  RLINK_NOT_FOUND: { status: 404, description: 'no such job, application, bundle, endpoint or file' },
  RLINK_WRONG_STATE: { status: 409, description: 'the operation is not possible in the current state (a savepoint of a job that is not running, ...)' },
  RLINK_LIMIT: { status: 413, description: 'a request or a peer exceeded a limit (upload size, declared slots, ...)' },
  RLINK_TASK_FAILED: { status: 500, description: 'a subtask threw while running (the job failed)' },
  RLINK_INTERNAL: { status: 500, description: 'something rlink did not expect (a bug or a broken invariant)' },
  RLINK_SSH: { status: 502, description: 'a host could not be reached, refused the key, or offered an unknown/changed host key' },
  RLINK_DEPLOY: { status: 502, description: 'a deploy step failed on a host (no Node, a daemon did not start, ...)' },
  RLINK_HDFS: { status: 502, description: 'WebHDFS answered with an error (its RemoteException is in the message)' },
  RLINK_YARN: { status: 502, description: 'the ResourceManager refused a request or a YARN service failed' },
  RLINK_KUBERNETES: { status: 502, description: 'the Kubernetes API refused a request or a pod of the cluster failed' },
  RLINK_NETWORK: { status: 503, description: 'a peer (job manager, task manager, store) could not be reached or the connection broke' },
  RLINK_NOT_LEADER: { status: 503, description: 'a standby job manager: the request must go to the leader' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorContext {
  job?: string;
  task?: string;
  operator?: string;
  host?: string;
  file?: string;
  line?: number;
  key?: string;
}

export class RlinkError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, opts: { retriable?: boolean; context?: ErrorContext; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RlinkError';
    this.code = code;
    this.retriable = opts.retriable ?? false;
    this.context = opts.context ?? {};
  }

  /** The HTTP status this error answers a REST request with. */
  get status(): number { return ERROR_CODES[this.code].status; }

  toJSON(): SerializedError { return serializeError(this); }
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** The code of an HTTP status that came without one (an answer of something that is not rlink). */
export function codeOfStatus(status: number): ErrorCode {
  switch (status) {
    case 401: case 403: return 'RLINK_UNAUTHORIZED';
    case 404: return 'RLINK_NOT_FOUND';
    case 409: return 'RLINK_WRONG_STATE';
    case 413: return 'RLINK_LIMIT';
    case 502: case 503: case 504: return 'RLINK_NETWORK';
    default: return status >= 500 ? 'RLINK_INTERNAL' : 'RLINK_BAD_REQUEST';
  }
}

/** An error as it crosses a wire: JSON, one line of message. */
export interface SerializedError { code: ErrorCode; message: string; retriable?: boolean; context?: ErrorContext }

/** Any thrown value as a SerializedError (what is not an RlinkError is RLINK_INTERNAL, or `fallback`). */
export function serializeError(err: unknown, fallback: ErrorCode = 'RLINK_INTERNAL'): SerializedError {
  if (err instanceof RlinkError) {
    const out: SerializedError = { code: err.code, message: errorMessage(err) };
    if (err.retriable) out.retriable = true;
    if (Object.keys(err.context).length > 0) out.context = err.context;
    return out;
  }
  return { code: fallback, message: errorMessage(err) };
}

/** The RlinkError a SerializedError stands for; an unknown or missing code becomes `fallback`. */
export function deserializeError(v: unknown, fallback: ErrorCode = 'RLINK_INTERNAL'): RlinkError {
  const o = (typeof v === 'object' && v !== null ? v : { message: String(v) }) as Partial<Record<keyof SerializedError, unknown>>;
  const code = isErrorCode(o.code) ? o.code : fallback;
  const message = typeof o.message === 'string' ? o.message : 'unknown error';
  const context = typeof o.context === 'object' && o.context !== null ? o.context as ErrorContext : {};
  return new RlinkError(code, message, { retriable: o.retriable === true, context });
}

/** The message of any thrown value, on one line. */
export function errorMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\s*\n\s*/g, ' ').trim();
}
