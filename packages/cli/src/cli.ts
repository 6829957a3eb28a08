import { runCli } from './main.js';

// A reader that stops early (`autodeeplab --help | head`) closes the pipe: that is not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}

// The `autodeeplab` bin. Setting the exit code (not calling process.exit) lets stdout drain.
process.exitCode = await runCli(process.argv.slice(2));
