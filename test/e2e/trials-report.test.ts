/**
 * `autodeeplab report <store>` on a trials store, checked in a real browser. The store is laid out by
 * hand as workers lay it out (`<store>/<trial-id>/`, ids as `trials start` plans them), from tiny
 * `autodeeplab search` runs with different seeds and one swept setting: no Redis involved, since the
 * report reads only the store's files. The page must load with no console error and no network
 * request, draw one line per trial, and show for each trial the last-epoch validation mIoU that its
 * metrics.jsonl holds (read here independently), the best trial marked by the rule of `trials best`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage } from './browser.js';
import { cli } from './helpers.js';

/** Set to a folder to keep a screenshot of the report (for the docs). */
const SCREENSHOT_DIR = process.env.AUTODEEPLAB_REPORT_SCREENSHOTS;

/** The tiny search of report.test.ts: seconds per run on the wasm backend. */
const SEARCH = [
  ...['--dataset', 'synthetic', '--crop', '33x33', '--epochs', '2', '--backend', 'wasm'],
  '--set=val={kind: synthetic, size: 4, height: 33, width: 33, numClasses: 4}',
  ...['--set', 'dataset.size=8', '--layers', '2', '--filter-multiplier', '2'],
  ...['--set', 'searchSpace.blocks=2', '--set=searchSpace.ops=[none, skip_connect, max_pool_3x3, sep_conv_3x3]'],
];
/** Trial id → its flags: two seeds, and one seed at another point of a sweep of search.archStartEpoch. */
const TRIALS: Record<string, string[]> = {
  'seed-0': ['--seed', '0', '--arch-start-epoch', '1'],
  'seed-1': ['--seed', '1', '--arch-start-epoch', '1'],
  'seed-1_search.archStartEpoch-0': ['--seed', '1', '--arch-start-epoch', '0'],
};

interface Event {
  type: string;
  epoch: number;
  epochs?: number;
  mIoU?: number;
}

/** The validation mIoU at the run's last planned epoch, straight from metrics.jsonl. */
async function lastEpochMIoU(runDir: string): Promise<number> {
  const events = (await readFile(join(runDir, 'metrics.jsonl'), 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Event);
  const epochs = events.find((e) => e.type === 'start')!.epochs!;
  return events.filter((e) => e.type === 'validation' && e.epoch === epochs - 1).at(-1)!.mIoU!;
}

let root: string;
let browser: Browser;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'trials-report-e2e-'));
  browser = await launchChromium(['--disable-gpu'], 'the report’s browser test');
});
afterAll(async () => {
  await browser?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** Opens a page from disk; it must make no request that is not file://. */
async function open(path: string): Promise<{ page: Page; problems: string[] }> {
  const opened = await openPage(browser, `file://${path}`, (url) => url.startsWith('file:'));
  await opened.page.waitForSelector('body[data-charts="done"]', { timeout: 20_000 });
  return opened;
}

describe('autodeeplab report on a trials store, in chromium', () => {
  it('draws one line per trial and lists each trial’s last-epoch mIoU as metrics.jsonl has it, the best marked', async () => {
    const store = join(root, 'store');
    for (const [id, flags] of Object.entries(TRIALS)) {
      const search = await cli(['search', ...SEARCH, ...flags, '--run-dir', join(store, id)]);
      expect(search.code, search.stderr).toBe(0);
    }
    // One trial has its own report: the store's page links to it.
    expect((await cli(['report', join(store, 'seed-0')])).code).toBe(0);

    const report = await cli(['report', store]);
    expect(report.code, report.stderr).toBe(0);
    const path = join(store, 'report.html');
    expect(report.stdout).toContain('trials store: 3 trial(s), best ');
    expect(report.stdout).toContain(`report: ${path}`);

    const ids = Object.keys(TRIALS);
    const expected = new Map<string, number>();
    for (const id of ids) expected.set(id, await lastEpochMIoU(join(store, id)));
    // The rule of `trials best`: highest last-epoch mIoU, ties to the lower id.
    const best = [...ids].sort((a, b) => expected.get(b)! - expected.get(a)! || a.localeCompare(b, 'en', { numeric: true }))[0]!;

    const { page, problems } = await open(path);
    const chart = await page.$eval('#chart-trials', (c) => ({
      rendered: c.getAttribute('data-rendered'),
      lines: c.querySelectorAll('svg .mark-line.role-mark path').length,
      points: c.querySelectorAll('svg .mark-symbol.role-mark path').length,
    }));
    expect(chart).toEqual({ rendered: 'true', lines: ids.length, points: 2 * ids.length });

    const rows = await page.$$eval('#trials tr[data-trial]', (trs) =>
      trs.map((r) => ({
        id: r.getAttribute('data-trial'),
        seed: r.querySelector('[data-seed]')!.getAttribute('data-seed'),
        mIoU: Number(r.querySelector('[data-metric="lastEpochMIoU"]')!.getAttribute('data-value')),
        best: r.getAttribute('data-best') === 'true',
        point: r.children[2]!.textContent,
        report: r.querySelector('a.trial-report')?.getAttribute('href') ?? null,
      })),
    );
    expect(rows).toEqual([
      { id: 'seed-0', seed: '0', mIoU: expected.get('seed-0'), best: best === 'seed-0', point: '–', report: 'seed-0/report.html' },
      { id: 'seed-1', seed: '1', mIoU: expected.get('seed-1'), best: best === 'seed-1', point: '–', report: null },
      {
        id: 'seed-1_search.archStartEpoch-0',
        seed: '1',
        mIoU: expected.get('seed-1_search.archStartEpoch-0'),
        best: best === 'seed-1_search.archStartEpoch-0',
        point: 'search.archStartEpoch=0',
        report: null,
      },
    ]);
    expect(await page.getAttribute('#best-trial', 'data-trial')).toBe(best);

    // Hovering a point names its trial, seed and sweep point.
    await page.hover('#chart-trials svg .mark-symbol.role-mark path >> nth=-1');
    const tooltip = await page.textContent('#tooltip');
    expect(tooltip).toContain('trial: seed-1_search.archStartEpoch-0');
    expect(tooltip).toContain('seed: 1');
    expect(tooltip).toContain('sweep point: search.archStartEpoch=0');
    if (SCREENSHOT_DIR) await page.screenshot({ path: join(SCREENSHOT_DIR, 'report-trials.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
