/**
 * Reads a synthesized template's IAM back into plain facts for the permission tests: per
 * function role (found by the description the construct gives it), which actions it has
 * on which resources, with queue ARNs turned back into queue names.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { resourcesOf } from './synth.js';

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

export const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Every Allow statement of every identity policy in the template. */
export function allStatements(template: Template): Statement[] {
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy')).flatMap((p) =>
    (p.Properties.PolicyDocument.Statement as Statement[]).filter((s) => s.Effect === 'Allow'),
  );
}

export class RolePermissions {
  private readonly queueNames: Map<string, string>;

  constructor(private readonly template: Template) {
    this.queueNames = new Map(Object.entries(resourcesOf(template, 'AWS::SQS::Queue')).map(([id, q]) => [id, q.Properties.QueueName as string]));
  }

  /** Statements of the role whose description matches. */
  statements(description: RegExp): Statement[] {
    const roles = Object.entries(resourcesOf(this.template, 'AWS::IAM::Role')).filter(([, r]) => description.test(r.Properties.Description));
    if (roles.length !== 1) throw new Error(`${roles.length} roles match ${description}`);
    const roleId = roles[0]![0];
    return Object.values(resourcesOf(this.template, 'AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
  }

  /** Names of the queues on which the role may do `action`. */
  queues(description: RegExp, action: string): string[] {
    const names = this.statements(description)
      .filter((s) => asArray(s.Action).includes(action))
      .flatMap((s) => asArray(s.Resource))
      .map((r) => this.queueNames.get((r as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0] ?? '') ?? JSON.stringify(r));
    return [...new Set(names)].sort();
  }

  /** Every action the role has, anywhere. */
  actions(description: RegExp): string[] {
    return [...new Set(this.statements(description).flatMap((s) => asArray(s.Action)))].sort();
  }
}
