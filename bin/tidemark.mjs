#!/usr/bin/env node
// Entry point of the `tidemark` command: loads TypeScript (the CLI and the user's job file)
// through tsx, then runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../local/cli.ts');
process.exitCode = await main(process.argv.slice(2));
