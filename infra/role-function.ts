/**
 * One Lambda function of a job role (operator stage, coordinator, recovery), with what every
 * role needs: its own IAM role that starts empty (no AWS managed policy: each permission is
 * granted explicitly), its own log group with a retention, the job's bundle and the
 * environment the handlers read (lib/adapters/aws/config.ts).
 */
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Runtime, type Architecture } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '../lib/adapters/aws/config.js';
import type { FunctionSpec } from '../lib/core/function-spec.js';
import type { JobBundle } from './job-bundle.js';
import type { JobStorage } from './job-storage.js';
import { acceptObjectKeyPrefix, acceptRuntimeVersion } from './nag-suppressions.js';

/** The runtime the project targets; the local host runs the same handlers on Node 20+. */
export const LAMBDA_RUNTIME = Runtime.NODEJS_22_X;

export interface RoleFunctionProps {
  /** The role and the settings its environment carries, from the job's resource spec. */
  readonly spec: FunctionSpec;
  readonly bundle: JobBundle;
  readonly storage: JobStorage;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly architecture: Architecture;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** Variables beyond the spec's (fault injection). @default - none */
  readonly environment?: Readonly<Record<string, string>>;
}

export class RoleFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RoleFunctionProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    // What AWSLambdaBasicExecutionRole would give, limited to this function's log group.
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      description: props.description,
      entry: props.bundle.entries[props.spec.role],
      handler: 'handler',
      runtime: LAMBDA_RUNTIME,
      architecture: props.architecture,
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role,
      logGroup: this.logGroup,
      projectRoot: props.bundle.projectRoot,
      depsLockFilePath: props.bundle.depsLockFilePath,
      bundling: props.bundle.bundling,
      environment: {
        [ENV.table]: props.storage.table.tableName,
        [ENV.bucket]: props.storage.bucket.bucketName,
        // Stack traces point into the sources, not the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
        ...variables(props.spec.environment),
        ...props.environment,
      },
    });
    props.storage.grantData(this.role);
    acceptRuntimeVersion(this.function);
    acceptObjectKeyPrefix(this.role, props.storage.bucket, props.storage.objectPrefix);
  }
}

/** The spec's settings under the variable names the handlers read (adapters/aws/config). */
function variables(settings: FunctionSpec['environment']): Record<string, string> {
  const named: Record<string, string> = {};
  for (const [setting, value] of Object.entries(settings) as [keyof typeof settings, string | undefined][]) {
    if (value !== undefined) named[ENV[setting]] = value;
  }
  return named;
}
