/**
 * `tidemark deploy --local` end to end, as a user runs it: the clicks example's real stack is
 * deployed with `cdk deploy` into a fresh embedded emulator (the CLI's own), its bundled
 * functions run there on the deployed event source mappings, rule and timer queue under their
 * own roles with IAM enforced (`--enforce-iam`: any grant the construct forgot fails the
 * run), a tenth of the operator invocations kill their own process (`--kill-rate`: the
 * stack's fault injection), one restore is forced from the CLI, and the output read from the
 * deployed bucket must equal the sequential evaluation.
 */
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../local/run-summary.js';
import { tidemarkCli } from '../support/cli.js';


const cli = (args: string[]) => tidemarkCli(args, { timeoutMs: 230_000 });

describe('tidemark deploy --local', () => {
  it('deploys the clicks stack into the emulator, where it runs under its own roles exactly once through kills and a forced restore', async () => {
    const { code, stdout, stderr } = await cli(['deploy', '--local', 'examples/clicks.ts', '--enforce-iam', '--kill-rate', '0.1', '--restore-at', '1', '--json']);
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout) as RunSummary;
    expect(stderr).toMatch(/cdk deploy: ✅ {2}Tidemark-clicks/);
    expect(stderr).toMatch(/MiniStack .* \(IAM enforced\)/);
    expect(summary.world).toBe('ministack, stack Tidemark-clicks');
    expect(summary.status).toBe('FINISHED');
    expect(summary.exactlyOnce).toMatchObject({ ok: true, differences: [] });
    expect(summary.restores).toBe(1);
    // A kill drawn for an invocation that ends before its step is owed to the next one, so about
    // a tenth of the operator invocations die. One CI run (before kills were owed) saw none: a
    // kill drawn at a step later than its invocation's last call used to be lost.
    expect(summary.kills).toBeGreaterThan(0);
    expect(summary.generation).toBe(2);
    expect(summary.deadLetters.count).toBe(3);
    // Read from the deployed bucket, whose name CloudFormation chose.
    expect(summary.sinks['minute-counts']!.location).toMatch(/^s3:\/\/tidemark-clicks-jobstoragebucket/);
    expect(summary.sinks['minute-counts']!.records).toBeGreaterThan(1000);
    expect(summary.checkpoints.filter((c) => c.status === 'COMPLETED').length).toBeGreaterThanOrEqual(2);
  }, 240_000);

  it('refuses to deploy without --local, saying how to deploy to AWS', async () => {
    const { code, stderr } = await cli(['deploy', 'examples/clicks.ts']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/needs --local.*npx cdk deploy -c job=<job-file>/);
  });
});
