import type { Props } from '../api/props';
import { RlinkError } from '../errors';

/**
 * The system properties of a job, each declared once with its default and meaning. They are read
 * from the job's {@link Props} (command line `key=value` or `prepareProperties`). docs/configuration.md
 * lists them; a test keeps the two in step.
 */
export const SYSTEM_PROPERTIES = {
  'checkpoint.interval': { type: 'duration', default: undefined, description: 'Time between checkpoints; checkpointing is off when unset.' },
  'checkpoint.dir': { type: 'string', default: undefined, description: 'Where completed checkpoints are written: a local directory, one every host shares, or hdfs://namenode:8020/path through WebHDFS (see checkpoint.webhdfs) (default: <tmp>/rlink-checkpoints).' },
  'checkpoint.webhdfs': { type: 'string', default: undefined, description: 'The namenode\'s WebHDFS address (http://namenode:9870) for an hdfs:// checkpoint.dir, savepoint directory or savepoint path; default: the RLINK_WEBHDFS environment variable.' },
  'checkpoint.hdfs-user': { type: 'string', default: undefined, description: 'The HDFS user (WebHDFS user.name) checkpoints are written as; default: the HADOOP_USER_NAME environment variable, else the namenode\'s default.' },
  'restart.strategy': { type: 'enum', values: ['fixed-delay', 'exponential-delay', 'none'], default: 'none', description: 'What the job does when a task fails.' },
  'restart.attempts': { type: 'number', default: 3, description: 'How many restarts before the job fails.' },
  'restart.delay': { type: 'duration', default: 1000, description: 'Delay before a restart (the first one, for exponential-delay).' },
  'pipeline.max-parallelism': { type: 'number', default: 128, description: 'Number of key groups: the upper bound of any keyed operator\'s parallelism, fixed for the life of the job\'s state.' },
  'pipeline.aggregation-phases': { type: 'enum', values: ['auto', 'one', 'two'], default: 'auto', description: 'Two-phase window aggregation: a local pre-aggregation in front of the keyBy shuffle sends one partial per key and window instead of every record. auto: for event-time windows with built-in aggregates (sum, min, max, count, avg); two: also custom aggregates and reduce (their merge must be exact); one: never.' },
  'pipeline.aggregation-local.skip-ratio': { type: 'number', default: 0.1, description: 'A local pre-aggregation that, over its first pipeline.aggregation-local.skip-sample records, makes more than this many partials per record (it reduces the shuffle by less than 1 − ratio) stops aggregating and forwards its records as they are (adaptive partial aggregation), before the sample ends as soon as it made more than ratio × skip-sample partials; 0 always skips after the sample, a value above the most partials a record can make never does.' },
  'pipeline.aggregation-local.skip-sample': { type: 'number', default: 100_000, description: 'Records a local pre-aggregation aggregates before it decides whether it reduces enough to go on (earlier when it cannot: see pipeline.aggregation-local.skip-ratio).' },
  'pipeline.batch-size': { type: 'number', default: 1024, description: 'Records per batch read by a source.' },
  'slot.request.timeout': { type: 'duration', default: 300_000, description: 'How long a job waits for free slots (held by other jobs, or, after a job manager failover, until its task managers are back) before it fails.' },
  'task.cancellation.timeout': { type: 'duration', default: 30_000, description: 'After a cancel, a task that has not stopped within this time has its slot\'s worker thread terminated and replaced (Flink\'s task cancellation watchdog).' },
  'job.build.timeout': { type: 'duration', default: 30_000, description: 'Longest time the job manager lets a bundle load and build() run (in a worker thread) before it refuses the job; read from the job manager\'s cluster defaults (--property), not from the job.' },
  'execution.savepoint.path': { type: 'string', default: undefined, description: 'Start the job from this savepoint or checkpoint (directory or _metadata file); set by --from-savepoint.' },
} as const;

export type SystemPropertyName = keyof typeof SYSTEM_PROPERTIES;

export interface RestartConfig { strategy: 'fixed-delay' | 'exponential-delay' | 'none'; attempts: number; delayMs: number }

/** The compiled job configuration: every system property resolved, with its default. */
export interface JobConfig {
  checkpointIntervalMs: number | undefined;
  checkpointDir: string | undefined;
  restart: RestartConfig;
  maxParallelism: number;
  aggregationPhases: 'auto' | 'one' | 'two';
  /** When a local pre-aggregation gives up (pipeline.aggregation-local.*). */
  localAggregationSkip: LocalAggregationSkip;
  batchSize: number;
  slotRequestTimeoutMs: number;
  cancellationTimeoutMs: number;
}

/** A local pre-aggregation stops once `sample` records made more than `ratio` partials per record. */
export interface LocalAggregationSkip { ratio: number; sample: number }

export function compileJobConfig(props: Props): JobConfig {
  const strategy = props.getOr('restart.strategy', SYSTEM_PROPERTIES['restart.strategy'].default);
  if (!(SYSTEM_PROPERTIES['restart.strategy'].values as readonly string[]).includes(strategy)) {
    throw new RlinkError('RLINK_CONFIG', `restart.strategy '${strategy}' is not one of ${SYSTEM_PROPERTIES['restart.strategy'].values.join(', ')}`, { context: { key: 'restart.strategy' } });
  }
  const maxParallelism = props.getNumber('pipeline.max-parallelism', SYSTEM_PROPERTIES['pipeline.max-parallelism'].default);
  if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > 32768) {
    throw new RlinkError('RLINK_CONFIG', `pipeline.max-parallelism ${maxParallelism} must be an integer in 1..32768`, { context: { key: 'pipeline.max-parallelism' } });
  }
  return {
    checkpointIntervalMs: props.has('checkpoint.interval') ? props.getDuration('checkpoint.interval') : undefined,
    checkpointDir: props.has('checkpoint.dir') ? props.get('checkpoint.dir') : undefined,
    restart: {
      strategy: strategy as RestartConfig['strategy'],
      attempts: props.getNumber('restart.attempts', SYSTEM_PROPERTIES['restart.attempts'].default),
      delayMs: props.getDuration('restart.delay', SYSTEM_PROPERTIES['restart.delay'].default),
    },
    maxParallelism,
    aggregationPhases: aggregationPhases(props),
    localAggregationSkip: localAggregationSkip(props),
    batchSize: Math.max(1, props.getNumber('pipeline.batch-size', SYSTEM_PROPERTIES['pipeline.batch-size'].default)),
    slotRequestTimeoutMs: props.getDuration('slot.request.timeout', SYSTEM_PROPERTIES['slot.request.timeout'].default),
    cancellationTimeoutMs: props.getDuration('task.cancellation.timeout', SYSTEM_PROPERTIES['task.cancellation.timeout'].default),
  };
}

function localAggregationSkip(props: Props): LocalAggregationSkip {
  const ratio = props.getNumber('pipeline.aggregation-local.skip-ratio', SYSTEM_PROPERTIES['pipeline.aggregation-local.skip-ratio'].default);
  const sample = props.getNumber('pipeline.aggregation-local.skip-sample', SYSTEM_PROPERTIES['pipeline.aggregation-local.skip-sample'].default);
  if (!(ratio >= 0)) throw new RlinkError('RLINK_CONFIG', `pipeline.aggregation-local.skip-ratio ${ratio} must be a number ≥ 0`, { context: { key: 'pipeline.aggregation-local.skip-ratio' } });
  if (!Number.isInteger(sample) || sample < 1) throw new RlinkError('RLINK_CONFIG', `pipeline.aggregation-local.skip-sample ${sample} must be a whole number ≥ 1`, { context: { key: 'pipeline.aggregation-local.skip-sample' } });
  return { ratio, sample };
}

function aggregationPhases(props: Props): JobConfig['aggregationPhases'] {
  const v = props.getOr('pipeline.aggregation-phases', SYSTEM_PROPERTIES['pipeline.aggregation-phases'].default);
  if (!(SYSTEM_PROPERTIES['pipeline.aggregation-phases'].values as readonly string[]).includes(v)) {
    throw new RlinkError('RLINK_CONFIG', `pipeline.aggregation-phases '${v}' is not one of ${SYSTEM_PROPERTIES['pipeline.aggregation-phases'].values.join(', ')}`, { context: { key: 'pipeline.aggregation-phases' } });
  }
  return v as JobConfig['aggregationPhases'];
}
