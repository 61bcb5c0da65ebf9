/**
 * rlink's public API: what `import … from 'rlink'` gives a job file.
 *
 * ```ts
 * import { defineApp, WatermarkStrategy, TumblingEventTimeWindows, sum, count, sources, sinks } from 'rlink';
 *
 * export default defineApp({
 *   name: 'clicks-per-user',
 *   build(env, props) {
 *     env.fromSource(sources.file({ path: props.get('input'), format: 'jsonl' }),
 *                    { watermarks: WatermarkStrategy.forBoundedOutOfOrderness('1s').withTimestampField('ts') })
 *       .keyBy('user')
 *       .window(TumblingEventTimeWindows.of('1m'))
 *       .aggregate({ clicks: count(), total: sum('amount') })
 *       .sinkTo(sinks.file({ path: props.get('output') }));
 *   },
 * });
 * ```
 */
export { defineApp, type AppDefinition } from './api/app';
export { Props } from './api/props';
export { StreamExecutionEnvironment, type SourceOptions, type OperatorOptions } from './api/environment';
export { DataStream, SingleOutputStream, KeyedStream, WindowedStream, DataStreamSink } from './api/datastream';
export { OutputTag } from './api/output-tag';
export type { Source, SourceReader, SourcePoll, Sink, SinkWriter, ConnectorContext } from './api/connector';
export { WatermarkStrategy, type TimestampAssigner } from './time/watermark-strategy';
export { toMillis, type Duration } from './time/duration';
export {
  TumblingEventTimeWindows, SlidingEventTimeWindows, EventTimeSessionWindows,
  TumblingProcessingTimeWindows, SlidingProcessingTimeWindows, ProcessingTimeSessionWindows, GlobalWindows,
  type WindowAssigner,
} from './windows/assigners';
export { Triggers, type Trigger, type TriggerContext, type TriggerResult, type TriggerState } from './windows/triggers';
export type {
  ConnectedStreams, KeyedConnectedStreams, BroadcastStream, BroadcastConnectedStream,
  JoinedStreams, WindowJoin, IntervalJoin, IntervalJoined,
} from './api/two-input-streams';
export type { KeyedCoProcessFunction, CoProcessFunction } from './runtime/operators/two-input/co-process';
export type { ProcessJoinFunction, ProcessJoinContext } from './runtime/operators/two-input/interval-join';
export type {
  BroadcastProcessFunction, KeyedBroadcastProcessFunction, BroadcastStateDescriptor, BroadcastState, ReadOnlyBroadcastState,
  BroadcastContext, ReadOnlyBroadcastContext,
} from './runtime/operators/two-input/broadcast-process';
export { sum, min, max, count, avg, type AggregateFunction } from './aggregates/aggregate-function';
export type { MapFunction } from './runtime/operators/map';
export type { FilterFunction } from './runtime/operators/filter';
export type { FlatMapFunction } from './runtime/operators/flat-map';
export type { ProcessFunction, ProcessContext, Collector } from './runtime/operators/process';
export type { KeyedProcessFunction, KeyedProcessContext, OnTimerContext, TimerService, RuntimeContext } from './runtime/operators/keyed-process';
export type { ReduceFunction } from './runtime/operators/keyed-reduce';
export type { ValueState } from './state/value-state';
export { RlinkError } from './errors';
export { SqlError } from './sql/errors';
export type { SqlType, SchemaSpec, Schema, WatermarkSpec } from './sql/types';
export type { SqlQueryOptions } from './sql/planner';
export { ROW_KIND_FIELD, type RowKind, type ChangelogRecord } from './api/changelog';
export { configFileApp, sqlScriptApp } from './jobfile/app';
