// Takes the README's picture of the demo's Slack (docs/images/demo-slack.png): runs `greenlight demo`,
// lets its workflows play, and photographs the page in headless Chromium (hack/chromium.sh): the payments
// bot's asks in #payments-requests, with the thread of the one a person approved open.
//
//   npm run screenshot [-- --out FILE]
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { launchChromium } from '../test/support/browser.ts';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const cli = join(root, 'src', 'cli', 'main.ts');
const VISIBLE = { state: 'visible', timeout: 30_000 } as const;

const { values } = parseArgs({
  options: { out: { type: 'string', default: join(root, 'docs', 'images', 'demo-slack.png') } },
});
const dir = await mkdtemp(join(tmpdir(), 'greenlight-screenshot-'));
const demo = spawn(process.execPath, [cli, 'demo', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
try {
  const page = await new Promise<string>((found, fail) => {
    let output = '';
    demo.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /^Slack, in your browser: (\S+)/m.exec(output)?.[1];
      if (url && output.includes('Greenlight is running.')) found(url);
    });
    demo.once('exit', (code) => {
      fail(new Error(`greenlight demo exited ${String(code)} before it was ready:\n${output}`));
    });
  });
  const browser = await launchChromium();
  try {
    const tab = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await tab.goto(`${page}#C0PAYREQ`);
    const asked = tab.locator('#channel-C0PAYREQ article.message', { hasText: 'invoice INV-45' });
    await asked.getByRole('button', { name: /\d+ repl/ }).click();
    await tab
      .getByRole('complementary', { name: 'Thread' })
      .locator('.thread-replies article', { hasText: 'Approved' })
      .waitFor(VISIBLE);
    await tab.screenshot({ path: values.out });
    console.log(`wrote ${values.out}`);
  } finally {
    await browser.close();
  }
} finally {
  const exited = new Promise((done) => demo.once('exit', done));
  demo.kill('SIGINT');
  await exited;
  await rm(dir, { recursive: true, force: true });
}
