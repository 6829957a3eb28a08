import { describe, expect, it } from 'vitest';
import { BufferStream } from './io.js';
import { Progress } from './progress.js';
import { RunReporter } from './reporter.js';

describe('RunReporter', () => {
  const error = (checkpoint?: string) => ({
    type: 'error' as const,
    time: new Date(0).toISOString(),
    kind: 'search' as const,
    epoch: 0,
    step: 3,
    message: 'labels out of range in batch 3',
    ...(checkpoint ? { checkpoint } : {}),
  });

  it("leaves an error's message to the command's error line (printed once), saying only where the run stands", () => {
    for (const checkpoint of [undefined, 'runs/a/checkpoint']) {
      const stream = new BufferStream(false, 80);
      new RunReporter(new Progress({ stream })).handle(error(checkpoint));
      expect(stream.text).not.toContain('labels out of range');
      if (checkpoint) expect(stream.text).toContain('stopped at step 3; the last good checkpoint is runs/a/checkpoint');
      else expect(stream.text).toBe('');
    }
  });
});
