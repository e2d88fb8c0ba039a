#!/usr/bin/env node
// The `shared-session-server` bin: all logic lives in run-cli.ts so it can be tested in-process.
import { runCli } from './run-cli.js';

process.exitCode = await runCli(process.argv.slice(2));
