/**
 * The I/O a source reader gets: objects under the job's own prefix in its bucket (so the
 * functions' least-privilege grants cover them), the job's partitioned logs and the Kinesis
 * streams the job was granted.
 */
import type { SourceIo } from '../core/graph.js';
import type { JobName } from '../core/ids.js';
import { blobKeys } from '../core/wire/storage-keys.js';
import type { Ports } from '../ports/index.js';

export function sourceIo(ports: Pick<Ports, 'blobs' | 'logs' | 'streams'>, job: JobName): SourceIo {
  return {
    getObject: (key) => ports.blobs.get(blobKeys.jobObject(job, key)),
    getObjectBytes: (key) => ports.blobs.getBytes(blobKeys.jobObject(job, key)),
    listObjects: async (prefix) => (await ports.blobs.list(blobKeys.jobObject(job, prefix))).map((k) => blobKeys.relativeToJob(job, k)),
    readLog: (log, partition, from, below, max) => ports.logs.read(job, log, partition, from, below, max),
    logHead: (log, partition) => ports.logs.head(job, log, partition),
    listShards: (stream) => ports.streams.listShards(stream),
    readShard: (stream, shard, after, max) => ports.streams.readShard(stream, shard, after, max),
  };
}
