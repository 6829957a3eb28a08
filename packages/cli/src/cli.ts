import { runCli } from './main.js';

// The `autodeeplab` bin. Setting the exit code (not calling process.exit) lets stdout drain.
process.exitCode = await runCli(process.argv.slice(2));
