/**
 * cdk-nag's AwsSolutions pack over the job stacks: no finding is left unacknowledged, every
 * acknowledgment carries a reason and matches a real finding (none is stale), and the
 * plugin the app registers does stop synthesis on a finding nobody acknowledged.
 */
import { Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobApp, synthJob, type Synthesized } from './synth.js';

let stacks: Synthesized[];

beforeAll(async () => {
  stacks = [await synthJob('examples/wordcount.ts', {}, { lean: true }), await synthJob('test/infra/fixtures/minutely.ts', {}, { lean: true })];
});
afterAll(() => stacks.forEach((s) => s.cleanup()));

/** Acknowledged rule ids and their reasons, from the construct tree's metadata. */
function acknowledgments(root: IConstruct): { id: string; reason: string; path: string }[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ id: id.replace(/^annotation::/i, ''), reason, path: c.node.path }))),
  );
}

/** What the pack reports with acknowledgments ignored: every raw finding. */
function rawFindings(root: IConstruct): string[] {
  const pack = new AwsSolutionsChecks();
  (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
  return pack.validateScope(root).violations.flatMap((v) => v.violatingResources.map(() => v.ruleName));
}

describe('AwsSolutions checks', () => {
  it('report nothing, neither errors nor warnings', () => {
    for (const s of stacks) {
      const report = new AwsSolutionsChecks(s.app, { verbose: true }).validateScope(s.app);
      expect(report.violations.map((v) => `${v.ruleName} (${v.severity}) at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
      expect(report.success).toBe(true);
    }
  });

  it('are acknowledged only where expected, each with a reason a reviewer can check', () => {
    for (const s of stacks) {
      const acks = acknowledgments(s.app);
      const ids = [...new Set(acks.map((a) => a.id.replace(/\[.*\]$/, '')))].sort();
      expect(ids).toEqual(['AwsSolutions-IAM5', 'AwsSolutions-L1', 'AwsSolutions-S1', ...(s.job.coordinator.timerQueue ? ['AwsSolutions-SQS3'] : [])]);
      // IAM5 only for the S3 object prefix, once per function role.
      const iam5 = acks.filter((a) => a.id.startsWith('AwsSolutions-IAM5'));
      expect(iam5).toHaveLength(s.job.stages.length + 2);
      for (const a of iam5) expect(a.id).toMatch(/^AwsSolutions-IAM5\[Resource::<\w+\.Arn>\/jobs\/[a-z-]+\/\*\]$/);
      for (const a of acks) expect(a.reason.length, `${a.id} at ${a.path}`).toBeGreaterThan(100);
    }
  });

  it('acknowledge exactly the findings there are: none stale, none missing', () => {
    for (const s of stacks) {
      const acked = acknowledgments(s.app).map((a) => a.id).sort();
      expect(rawFindings(s.app).sort()).toEqual(acked);
    }
  });

  it('stop synthesis, as the app registers them, on a finding nobody acknowledged', () => {
    const { app, stack, outdir } = jobApp({ lean: true });
    new sqs.Queue(stack, 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    try {
      expect(() => app.synth()).toThrow(/AwsSolutions-SQS2/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
