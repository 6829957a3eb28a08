import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A redis-server child process on 127.0.0.1 (tests, benchmarks): no persistence, stopped by `stop`. */
export interface LocalRedis {
  url: string;
  port: number;
  /** Stops the server (SIGTERM, then waits for its exit). */
  stop(): Promise<void>;
  /** Stops it and starts it again on the same port (what it held survives only with a `dataDir`). */
  restart(): Promise<void>;
}

/** A port free on 127.0.0.1 now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts `redis-server` and resolves once it accepts connections; fails loudly when it is not installed. */
async function launch(binary: string, port: number, dataDir: string | undefined): Promise<ChildProcess> {
  // With a data directory: an append-only file synced on every write, so that a restart keeps the queue.
  const persistence = dataDir ? ['--dir', dataDir, '--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.off('exit', exitedEarly);
      reject(error);
    };
    const exitedEarly = (code: number | null) => fail(new Error(`redis-server exited with code ${code} before it was ready:\n${output}`));
    const timer = setTimeout(() => fail(new Error(`redis-server did not start within 10 s on port ${port}:\n${output}`)), 10_000);
    child.once('error', (error) => {
      const missing = (error as { code?: string }).code === 'ENOENT';
      fail(new Error(missing ? `${binary} not found: install it (Debian: apt-get install redis-server) or set REDIS_SERVER` : error.message));
    });
    child.once('exit', exitedEarly);
    const watch = (chunk: Buffer) => {
      output += chunk.toString();
      if (!output.includes('Ready to accept connections')) return;
      clearTimeout(timer);
      child.off('exit', exitedEarly);
      child.stdout!.off('data', watch);
      // Keep draining its log so that the server never blocks on a full pipe.
      child.stdout!.resume();
      resolve();
    };
    child.stdout!.on('data', watch);
    child.stderr!.resume();
  });
  return child;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

/**
 * A fresh redis-server on a free port of 127.0.0.1 (`REDIS_SERVER` names the binary; default
 * `redis-server` on the PATH). Nothing persists unless `dataDir` is given (then a restart keeps the data).
 */
export async function startRedisServer(options: { dataDir?: string } = {}): Promise<LocalRedis> {
  const binary = process.env.REDIS_SERVER ?? 'redis-server';
  const port = await freePort();
  let child = await launch(binary, port, options.dataDir);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => terminate(child),
    async restart() {
      await terminate(child);
      child = await launch(binary, port, options.dataDir);
    },
  };
}
