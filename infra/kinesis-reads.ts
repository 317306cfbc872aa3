/**
 * The Kinesis streams a job's sources read (the `kinesisStreams` prop): each `kinesisSource`
 * must name one of them, checked at synth, and only the stages whose head is such a source
 * may read it (`grantRead`: records, shard listing, and the stream's KMS key when it has one).
 */
import { Token } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import type { JobGraph } from '../lib/core/graph.js';
import type { StageTopology } from '../lib/core/topology.js';
import { PropError } from './validate-props.js';

/** The stream a stage's source reads, when its head is a Kinesis source. */
function streamOf(stage: StageTopology): string | null {
  const head = stage.operators[0]?.spec;
  return head?.kind === 'source' && head.reader.input?.kind === 'stream' ? head.reader.input.stream : null;
}

/** Every Kinesis source's stream is among `streams` (those whose name is known at synth). */
export function checkKinesisStreams(graph: JobGraph, streams: readonly IStream[]): void {
  const named = new Set(streams.filter((s) => !Token.isUnresolved(s.streamName)).map((s) => s.streamName));
  const someUnnamed = streams.some((s) => Token.isUnresolved(s.streamName));
  for (const op of graph.operators) {
    const input = op.spec.kind === 'source' ? op.spec.reader.input : undefined;
    if (input?.kind !== 'stream' || named.has(input.stream) || someUnnamed) continue;
    throw new PropError('kinesisStreams', `source ${op.name} reads Kinesis stream ${JSON.stringify(input.stream)}, which is not among them (pass it, e.g. Stream.fromStreamArn(this, 'Orders', arn))`);
  }
}

/** Read access for each stage that runs a Kinesis source, on its stream (on every stream whose name is a token). */
export function grantKinesisReads(stages: readonly { readonly stage: StageTopology; readonly operator: { readonly role: IGrantable } }[], streams: readonly IStream[]): void {
  for (const s of stages) {
    const name = streamOf(s.stage);
    if (name === null) continue;
    for (const stream of streams) if (Token.isUnresolved(stream.streamName) || stream.streamName === name) stream.grantRead(s.operator.role);
  }
}
