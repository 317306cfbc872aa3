/**
 * AWS adapters (SDK v3) behind the ports. PLACEHOLDER while the adapters are being written:
 * `awsPorts` throws until lib/adapters/aws/{sqs,s3,dynamodb}-*.ts exist.
 */
import type { Ports } from '../../ports/index.js';
import type { AwsConfig } from './config.js';

export interface AwsPorts extends Ports {
  /** API calls made, by service and operation (benchmarks report them). */
  readonly requests: { readonly sqs: Record<string, number>; readonly s3: Record<string, number>; readonly dynamodb: Record<string, number> };
}

export function awsPorts(_config: AwsConfig): AwsPorts {
  throw new Error('AWS adapters are not written yet');
}
