/**
 * `autodeeplab report` checked in a real browser: a tiny search and a tiny training with validation
 * through the CLI, their reports opened from disk in Debian's chromium (driven by playwright-core, no
 * browser download). The page must load with no console error and no network request, draw every
 * chart (an SVG with marks), and show for the last epoch exactly the figures metrics.jsonl holds
 * (read here independently, line by line).
 */
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage } from './browser.js';
import { cli, STACK_LINE } from './helpers.js';

/** Set to a folder to keep screenshots of both reports (for the README). */
const SCREENSHOT_DIR = process.env.AUTODEEPLAB_REPORT_SCREENSHOTS;

const VAL = '--set=val={kind: synthetic, size: 4, height: 33, width: 33, numClasses: 4}';
const TINY = ['--dataset', 'synthetic', '--crop', '33x33', '--epochs', '2', VAL, '--backend', 'wasm'];
/** A small search space (2 blocks, 4 ops) keeps the search to seconds; 2 steps an epoch draw lines. */
const SEARCH = [...TINY, '--set', 'dataset.size=8', '--layers', '2', '--filter-multiplier', '2', '--arch-start-epoch', '1'];
const SPACE = ['--set', 'searchSpace.blocks=2', '--set=searchSpace.ops=[none, skip_connect, max_pool_3x3, sep_conv_3x3]'];

interface Event {
  type: string;
  epoch: number;
  [key: string]: unknown;
}

async function readEvents(runDir: string): Promise<Event[]> {
  const text = await readFile(join(runDir, 'metrics.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Event);
}

let root: string;
let browser: Browser;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'report-e2e-'));
  browser = await launchChromium(['--disable-gpu'], 'the report’s browser test');
});
afterAll(async () => {
  await browser?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** Opens a report from disk; it must make no request that is not file://. */
async function openReport(path: string): Promise<{ page: Page; problems: string[] }> {
  const opened = await openPage(browser, `file://${path}`, (url) => url.startsWith('file:'));
  await opened.page.waitForSelector('body[data-charts="done"]', { timeout: 20_000 });
  return opened;
}

/** Each chart: its id, whether the page drew it, and how many mark items its SVG holds. */
function chartsOf(page: Page) {
  return page.$$eval('.chart', (charts) =>
    charts.map((c) => ({ id: c.id, rendered: c.getAttribute('data-rendered'), marks: c.querySelectorAll('svg .role-mark > *').length })),
  );
}

/** The last epoch's figures on the page equal the last epoch and validation events of metrics.jsonl. */
async function expectLastEpoch(page: Page, events: Event[]): Promise<void> {
  const validation = events.filter((e) => e.type === 'validation').at(-1)!;
  const epoch = events.filter((e) => e.type === 'epoch').at(-1)!;
  expect(await page.getAttribute('#last-epoch', 'data-epoch')).toBe(String(validation.epoch + 1));
  const shown = async (metric: string) => Number(await page.getAttribute(`#last-epoch td[data-metric="${metric}"]`, 'data-value'));
  expect(await shown('mIoU')).toBe(validation.mIoU);
  expect(await shown('pixelAccuracy')).toBe(validation.pixelAccuracy);
  expect(await shown('validationLoss')).toBe(validation.loss);
  expect(await shown('meanLoss')).toBe(epoch.meanLoss);
  expect(await page.textContent('#last-epoch td[data-metric="mIoU"]')).toBe(`${(100 * (validation.mIoU as number)).toFixed(2)}%`);
  const perClass = await page.$$eval('#per-class-iou tr[data-class-index]', (rows) =>
    rows.map((r) => (r.hasAttribute('data-absent') ? null : Number(r.getAttribute('data-iou')))),
  );
  expect(perClass).toEqual(validation.perClassIoU);
}

async function screenshot(page: Page, name: string): Promise<void> {
  if (SCREENSHOT_DIR) await page.screenshot({ path: join(SCREENSHOT_DIR, name), fullPage: true });
}

describe('autodeeplab report in chromium', () => {
  it('reports a search: curves, per-class IoU, trellis, α and cell per epoch, equal to metrics.jsonl', async () => {
    const runDir = join(root, 'search');
    const search = await cli(['search', ...SEARCH, ...SPACE, '--run-dir', runDir]);
    expect(search.code, search.stderr).toBe(0);
    expect(search.stdout).toContain(`autodeeplab report ${runDir}`);
    const report = await cli(['report', runDir]);
    expect(report.code, report.stderr).toBe(0);
    const path = join(runDir, 'report.html');
    expect(report.stdout).toContain(`report: ${path}`);

    const events = await readEvents(runDir);
    const { page, problems } = await openReport(path);
    const charts = await chartsOf(page);
    expect(charts.map((c) => c.id)).toEqual(['chart-loss', 'chart-lr', 'chart-validation', 'chart-per-class', 'chart-trellis', 'chart-alpha', 'chart-cell']);
    for (const chart of charts) {
      expect(chart.rendered, chart.id).toBe('true');
      expect(chart.marks, chart.id).toBeGreaterThan(0);
    }
    await expectLastEpoch(page, events);

    // The path per epoch is the one each arch event decoded, and the slider moves the charts to it.
    const arch = events.filter((e) => e.type === 'arch') as (Event & { genotype: { path: number[] } })[];
    const rows = await page.$$eval('#architecture-history tr[data-epoch]', (trs) =>
      trs.map((r) => [Number(r.getAttribute('data-epoch')), r.getAttribute('data-path')]),
    );
    expect(rows).toEqual(arch.map((a) => [a.epoch + 1, a.genotype.path.join(' ')]));
    expect(await page.getAttribute('#epoch-slider', 'data-shown-epoch')).toBe(String(arch.at(-1)!.epoch + 1));
    await page.$eval('#epoch-slider', (slider) => {
      // The test's tsconfig has no DOM types: the input's value property, typed by hand.
      (slider as unknown as { value: string }).value = '0';
      slider.dispatchEvent(new Event('input'));
    });
    await page.waitForSelector(`#epoch-slider[data-shown-epoch="${arch[0]!.epoch + 1}"]`);
    expect(await page.getAttribute('#architecture-history tr.selected', 'data-epoch')).toBe(String(arch[0]!.epoch + 1));
    expect(await page.textContent('#run-config')).toBe(await readFile(join(runDir, 'config.yaml'), 'utf8'));
    await screenshot(page, 'report-search.png');
    expect(problems).toEqual([]);

    // While a run writes a line, the report leaves the half-written line out and shows the rest.
    await appendFile(join(runDir, 'metrics.jsonl'), '{"type":"step","time":"2026-');
    const partial = join(root, 'partial.html');
    const again = await cli(['report', runDir, '--out', partial]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('still being written');
    const reopened = await openReport(partial);
    expect(await reopened.page.isVisible('#partial-line')).toBe(true);
    await expectLastEpoch(reopened.page, events);
    expect(reopened.problems).toEqual([]);
  });

  it('reports a training with validation, written where --out says', async () => {
    const runDir = join(root, 'train');
    const genotype = join(root, 'search', 'genotype.json');
    const train = await cli(['train', ...TINY, '--set', 'dataset.size=4', '--genotype', genotype, '-F', '2', '--run-dir', runDir]);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stdout).toContain(`autodeeplab report ${runDir}`);
    const path = join(root, 'out', 'train-report.html');
    const report = await cli(['report', runDir, '--out', path]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain(`report: ${path}`);

    const { page, problems } = await openReport(path);
    const charts = await chartsOf(page);
    expect(charts.map((c) => c.id)).toEqual(['chart-loss', 'chart-lr', 'chart-validation', 'chart-per-class']);
    for (const chart of charts) {
      expect(chart.rendered, chart.id).toBe('true');
      expect(chart.marks, chart.id).toBeGreaterThan(0);
    }
    await expectLastEpoch(page, await readEvents(runDir));
    // A training report has no architecture section; class names come from the trained network.
    expect(await page.$('#architecture')).toBeNull();
    const network = JSON.parse(await readFile(join(runDir, 'network', 'network.json'), 'utf8')) as { classNames: string[] };
    expect(await page.$$eval('#per-class-iou tr[data-class-index] td:nth-child(2)', (tds) => tds.map((td) => td.textContent))).toEqual(network.classNames);
    await screenshot(page, 'report-train.png');
    expect(problems).toEqual([]);
  });

  it('a directory that is not a run is a one-line error, exit 2', async () => {
    const r = await cli(['report', join(root, 'no-such-run')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^autodeeplab: error: .*no-such-run.* not found: expected the run directory of an autodeeplab search or train\n$/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });
});
