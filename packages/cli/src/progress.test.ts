import { describe, expect, it } from 'vitest';
import { BufferStream } from './io.js';
import { Progress } from './progress.js';

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('Progress', () => {
  it('draws a bar in place on a TTY with step, fields, rate and ETA', () => {
    const stream = new BufferStream(true, 120);
    const c = clock();
    const p = new Progress({ stream, now: c.now, redrawIntervalMs: 0 });
    p.start('search', 10);
    c.advance(2000);
    p.update(4, { loss: 0.5 });
    const last = stream.text.split('\r\x1b[2K').at(-1)!;
    // 4 steps in 2 s = 2 step/s; 6 left → 3 s.
    expect(last).toContain('4/10');
    expect(last).toContain('loss 0.5');
    expect(last).toContain('2.00 step/s');
    expect(last).toContain('ETA 3s');
    expect(last).toMatch(/\[#{12}-{18}\]/); // 40% of 30 columns
    expect(stream.text).not.toContain('\n');
    p.finish();
    expect(stream.text.endsWith('\n')).toBe(true);
  });

  it('prints log lines above the bar and redraws it', () => {
    const stream = new BufferStream(true, 120);
    const c = clock();
    const p = new Progress({ stream, now: c.now, redrawIntervalMs: 0 });
    p.start('train', 5);
    p.update(1);
    p.log('epoch 1 done');
    expect(stream.text).toContain('\r\x1b[2Kepoch 1 done\n');
    expect(stream.text.slice(stream.text.indexOf('epoch 1 done'))).toContain('1/5');
  });

  it('writes plain lines at most once per interval when not a TTY, and always the last step', () => {
    const stream = new BufferStream(false);
    const c = clock();
    const p = new Progress({ stream, now: c.now, logIntervalMs: 1000 });
    p.start('train', 10);
    for (let i = 1; i <= 10; i++) {
      c.advance(300);
      p.update(i, { loss: 1 / i });
    }
    p.finish();
    const lines = stream.text.trimEnd().split('\n');
    // step 1 (first), then every ≥1000 ms: steps 5 (t=1500) and 9 (t=2700); step 10 is the last.
    expect(lines.map((l) => /step (\d+)\/10/.exec(l)?.[1])).toEqual(['1', '5', '9', '10']);
    expect(stream.text).not.toContain('\r');
    expect(lines.at(-1)).toContain('(100%)');
    expect(lines.at(-1)).toContain('ETA 0s');
  });

  it('counts the rate from the resume point', () => {
    const stream = new BufferStream(false);
    const c = clock();
    const p = new Progress({ stream, now: c.now });
    p.start('search', 100, { start: 50 });
    c.advance(10_000);
    p.update(60);
    expect(p.rate()).toBeCloseTo(1);
    expect(p.eta()).toBeCloseTo(40);
  });

  it('has no ETA before the first step', () => {
    const p = new Progress({ stream: new BufferStream(false), now: () => 0 });
    p.start('x', 10);
    expect(p.eta()).toBeUndefined();
    expect(p.plainLine()).toContain('ETA ?');
  });
});
