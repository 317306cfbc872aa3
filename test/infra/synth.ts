/**
 * Synthesizes a TidemarkJob stack for the infra tests, with the feature flags of cdk.json
 * so the template is the one `cdk synth` produces, bundled with the local esbuild and
 * checked by CDK's built-in CloudFormation validation. Tests that only read IAM or the
 * construct tree ask for a `lean` synth: no bundling (CDK's own `aws:cdk:bundling-stacks`
 * switch, as `cdk deploy -e` uses) and no built-in validation; the template and variations
 * tests keep both.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { JobBuilder } from '../../lib/api/job.js';
import type { TidemarkJobProps } from '../../infra/props.js';
import { TidemarkJob } from '../../infra/tidemark-job.js';

export const projectFile = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

const cdkContext = (JSON.parse(readFileSync(projectFile('cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

export interface Synthesized {
  readonly app: App;
  readonly stack: Stack;
  readonly job: TidemarkJob;
  readonly template: Template;
  readonly outdir: string;
  cleanup(): void;
}

/** A fresh app (and cloud assembly directory) holding one job. */
export function jobApp(options: SynthOptions = {}): { app: App; stack: Stack; outdir: string } {
  const outdir = mkdtempSync(join(tmpdir(), 'tidemark-infra-'));
  const app = options.lean
    ? new App({ outdir, context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false })
    : new App({ outdir, context: cdkContext });
  return { app, outdir, stack: new Stack(app, 'TestStack') };
}

export async function loadJob(module: string): Promise<JobBuilder> {
  return ((await import(pathToFileURL(projectFile(module)).href)) as { default: JobBuilder }).default;
}

export interface SynthOptions {
  /** Skip bundling and CloudFormation validation: for tests of IAM and the construct tree. */
  readonly lean?: boolean;
}

export async function synthJob(module: string, props: Partial<TidemarkJobProps> = {}, options: SynthOptions = {}): Promise<Synthesized> {
  const { app, stack, outdir } = jobApp(options);
  const job = new TidemarkJob(stack, 'Job', { job: await loadJob(module), jobModule: projectFile(module), ...props });
  const template = Template.fromStack(stack);
  return { app, stack, job, template, outdir, cleanup: () => rmSync(outdir, { recursive: true, force: true }) };
}

/** Resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, { Properties: Record<string, any> }> {
  return template.findResources(type) as Record<string, { Properties: Record<string, any> }>;
}

export const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });

/** Logical id of the (first) resource of a type whose properties include `props`. */
export function logicalIdOf(template: Template, type: string, props: Record<string, unknown> = {}): string {
  const id = Object.keys(template.findResources(type, { Properties: Match.objectLike(props) }))[0];
  if (!id) throw new Error(`no ${type} with ${JSON.stringify(props)}`);
  return id;
}

export const queueIdOf = (template: Template, name: string) => logicalIdOf(template, 'AWS::SQS::Queue', { QueueName: name });

/** Logical id of the function whose description matches (the construct describes each role). */
export function functionIdOf(template: Template, description: RegExp): string {
  const found = Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).find(([, r]) => description.test(r.Properties.Description));
  if (!found) throw new Error(`no function described as ${description}`);
  return found[0];
}
