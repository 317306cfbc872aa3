/**
 * Loads a job's input before a local run: a job module may name, per source, a file (path
 * relative to the module) — `export const inputs = { clicks: 'data/clicks.ndjson' }` — and
 * `--input source=path` adds or overrides one. An object source gets the file uploaded under
 * its prefix; a log source gets the file's lines appended, dealt round-robin over its
 * partitions, as they are (a malformed line stays malformed, for the dead-letter output); a
 * Kinesis source gets them put into its stream (created when absent), a line a record.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { ConfigError } from '../lib/core/errors.js';
import type { JobGraph } from '../lib/core/graph.js';
import { blobKeys } from '../lib/core/wire/storage-keys.js';
import type { Ports } from '../lib/ports/index.js';

export interface LoadedInput {
  readonly source: string;
  readonly file: string;
  readonly lines: number;
  readonly where: string;
}

export function inputFiles(jobFile: string, declared: Record<string, string> | undefined, overrides: readonly string[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const [source, path] of Object.entries(declared ?? {})) files.set(source, resolve(dirname(resolve(jobFile)), path));
  for (const o of overrides) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new ConfigError('--input', `expects source=path, got ${JSON.stringify(o)}`);
    files.set(o.slice(0, eq), resolve(o.slice(eq + 1)));
  }
  return files;
}

export async function loadInputs(ports: Pick<Ports, 'blobs' | 'logs' | 'streams'>, graph: JobGraph, files: Map<string, string>): Promise<LoadedInput[]> {
  const loaded: LoadedInput[] = [];
  for (const [source, file] of files) {
    const op = graph.operators.find((o) => o.name === source);
    if (!op || op.spec.kind !== 'source') throw new ConfigError(`inputs.${source}`, `job ${graph.name} has no source named ${source}`);
    const input = op.spec.reader.input;
    if (!input) throw new ConfigError(`inputs.${source}`, `source ${source} (${op.spec.reader.kind}) reads no external input`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`inputs.${source}`, `cannot read ${file}: ${(e as Error).message}`);
    }
    const lines = text.split('\n').filter((l) => l.length > 0);
    if (input.kind === 'objects') {
      const key = blobKeys.jobObject(graph.name, `${input.prefix}${basename(file)}`);
      await ports.blobs.put(key, text);
      loaded.push({ source, file, lines: lines.length, where: key });
    } else if (input.kind === 'stream') {
      // Partition keys are line numbers: the lines spread over the shards by their hash.
      await ports.streams.ensureStream(input.stream, input.shards);
      await ports.streams.put(input.stream, lines.map((data, i) => ({ partitionKey: String(i), data })));
      loaded.push({ source, file, lines: lines.length, where: `stream ${input.stream} (${plural(input.shards, 'shard')})` });
    } else {
      for (let q = 0; q < input.partitions; q++) {
        const share = lines.filter((_, i) => i % input.partitions === q);
        if (share.length > 0) await ports.logs.append(graph.name, input.log, q, share);
      }
      loaded.push({ source, file, lines: lines.length, where: `log ${input.log} (${plural(input.partitions, 'partition')})` });
    }
  }
  return loaded;
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
