#!/usr/bin/env node
import { streamOutput } from "./output.js";
import { runCli } from "./run-cli.js";

process.exitCode = await runCli(process.argv.slice(2), streamOutput(process.stdout, process.stderr), process.env);
