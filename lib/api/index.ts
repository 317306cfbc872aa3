/** What users import. Small on purpose; the runtime lives elsewhere. */
export { job, JobBuilder, type JobOptions, type SourceOptions } from './job.js';
export type { OperatorOptions } from './operator-graph.js';
export { BroadcastConnectedStreams, BroadcastStream, ConnectedStreams, IntervalJoined, KeyedStream, ProcessResult, Stream, WindowedStream, WindowResult, type IntervalJoin, type WindowJoin } from './stream.js';
export type { JoinFunction, JoinSide } from './window-join.js';
export type { OperatorProcessContext, OperatorStateDescriptor, ProcessFunction } from './operator-state.js';
export type { BroadcastContext, KeyedBroadcastContext, KeyedBroadcastProcessFunction, ReadOnlyMapState } from './broadcast-process.js';
export type { IntervalJoinContext, ProcessJoinFunction } from './interval-join.js';
export { output, outputTag, type KeyedCoProcessFunction, type KeyedProcessFunction, type OutputDescriptor, type OutputTag } from './process-function.js';
export { session, sliding, tumbling, type Window, type WindowOptions } from './windows.js';
export type { WatermarkStrategy } from '../core/watermarks.js';
export type { TimeDomain, TimerService } from '../core/graph.js';
export { generator, type GeneratorOptions, type Source } from './sources.js';
export { collect, dynamoSink, print, s3Sink, type S3SinkOptions, type Sink } from './sinks.js';
export { s3Source, type S3SourceOptions } from './s3-source.js';
export { logSource, type LogSourceOptions } from './log-source.js';
export { kinesisSource, type KinesisSourceOptions } from './kinesis-source.js';
export {
  aggregatingState,
  listState,
  mapState,
  reducingState,
  unionListState,
  valueState,
  type AggregatingState,
  type AggregatingStateDescriptor,
  type KeyedProcessContext,
  type ListState,
  type ListStateDescriptor,
  type MapState,
  type MapStateDescriptor,
  type ReducingState,
  type ReducingStateDescriptor,
  type ValueState,
  type StateOptions,
  type StateTtlOptions,
  type UnionListStateDescriptor,
  type ValueStateDescriptor,
} from './state.js';
export type { CheckpointMode, CheckpointSettings, RestartStrategy } from '../core/config.js';
export { ConfigError, TidemarkError } from '../core/errors.js';
export type { Random } from '../core/rng.js';
