import { Redis } from 'ioredis';
import { UserInputError } from '@autodeeplab/core';

/** The queue every trial goes through (one per Redis database; use another database or server for another study). */
export const TRIALS_QUEUE = 'autodeeplab-trials';

/** How long a first connection may take before the URL is reported unreachable. */
const CONNECT_TIMEOUT_MS = 3000;

/** The URL as it may be printed: a password is masked. */
export function displayRedisUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** Refuses anything but `redis://` and `rediss://` URLs, naming the flag's value. */
function assertRedisUrl(url: string): void {
  if (!/^rediss?:\/\/[^/]/.test(url)) {
    throw new UserInputError(`--redis '${url}': expected a Redis URL such as redis://127.0.0.1:6379 (or rediss:// for TLS)`);
  }
}

/**
 * Checks that Redis answers at `url` within a few seconds, once and without retrying, so that a wrong
 * URL or a server not started is a clear error instead of an endless reconnect loop.
 */
export async function assertRedisReachable(url: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  assertRedisUrl(url);
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // The socket's error (ECONNREFUSED, ENOTFOUND…) says more than connect()'s "Connection is closed".
  let socketError: Error | undefined;
  probe.on('error', (error: Error) => (socketError ??= error));
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    const reason = (socketError ?? (error as Error)).message || String(error);
    throw new UserInputError(`cannot reach Redis at ${displayRedisUrl(url)}: ${reason}; start a server (e.g. redis-server) or give the right --redis URL`, {
      cause: error,
    });
  } finally {
    probe.disconnect();
  }
}

/**
 * A connection for BullMQ once Redis answered: it reconnects for ever (a restarted server is picked up
 * again) and never fails a command for want of a connection (BullMQ's workers require that).
 */
export function queueConnection(url: string): Redis {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  // Reconnection errors are expected while a server restarts; BullMQ reports the ones that matter.
  connection.on('error', () => {});
  return connection;
}
