#!/usr/bin/env node
// Entry point of the `tidemark` command: loads TypeScript (the CLI and the user's job file)
// through tsx, then runs the CLI.
import { register } from 'tsx/esm/api';

// The AWS SDK warns that its releases after January 2027 need Node 22; the pinned ones run on 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();
const { main } = await import('../local/cli.ts');
process.exitCode = await main(process.argv.slice(2));
