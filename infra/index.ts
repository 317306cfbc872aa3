/** What a CDK app imports to deploy Tidemark jobs. */
export { TidemarkJob } from './tidemark-job.js';
export type { FaultInjection, TidemarkJobProps } from './props.js';
export { PropError } from './validate-props.js';
export { TIDEMARK_METRICS } from '../lib/core/metrics.js';
