/**
 * One error root for all of rlink. Every error carries a stable `code` (listed in
 * docs/errors.md), whether retrying may help, and the context it happened in.
 */
export type ErrorCode =
  | 'RLINK_CONFIG'          // a bad property, duration or option
  | 'RLINK_MISSING_PROP'    // props.get(key) on a key nobody set
  | 'RLINK_APP_BUILD'       // the user's defineApp/build threw or returned nothing usable
  | 'RLINK_APP_BUNDLE'      // esbuild could not bundle the app
  | 'RLINK_GRAPH'           // an invalid dataflow (no sink, bad parallelism, ...)
  | 'RLINK_TASK_FAILED'     // a subtask threw while running (the job failed)
  | 'RLINK_CLI'             // the command line itself: an unknown flag, a missing argument
  | 'RLINK_PROTOCOL'        // a malformed or unsupported message on a control or data socket
  | 'RLINK_SSH'             // a host could not be reached, refused the key, or offered an unknown/changed host key
  | 'RLINK_DEPLOY'          // a deploy step failed on a host (no Node, a daemon did not start, ...)
  | 'RLINK_HDFS'            // WebHDFS answered with an error (its RemoteException is in the message)
  | 'RLINK_YARN'            // the ResourceManager refused a request or a YARN service failed
  | 'RLINK_INTERNAL';

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

  toJSON(): { code: ErrorCode; message: string; retriable: boolean; context: ErrorContext } {
    return { code: this.code, message: this.message, retriable: this.retriable, context: this.context };
  }
}

/** The message of any thrown value, on one line. */
export function errorMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\s*\n\s*/g, ' ').trim();
}
