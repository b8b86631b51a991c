// Takes the README's picture of the demo's Slack (docs/images/demo-slack.png): runs `greenlight demo`,
// lets its workflows play, asks for one more large payment so buttons show, and photographs the page in
// headless Chromium (hack/chromium.sh), with the approved payment's thread open.
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

/** Runs the CLI to the end and fails with its output when it fails. */
function greenlight(args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      if (code === 0) done();
      else fail(new Error(`greenlight ${args.join(' ')} exited ${String(code)}:\n${output}`));
    });
  });
}

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
  const env = { KUBECONFIG: join(dir, 'kubeconfig') };
  // One more payment for people, so the picture has buttons too.
  await greenlight(
    ['request', '--context', 'ci', '-n', 'finance', '--action', 'payment', '--resource', 'invoice/INV-44']
      .concat(['--param', 'amount=9000', '--param', 'currency=USD', '--name', 'payment-inv-44'])
      .concat(['--reason', 'new laptops for the support team']),
    env,
  );
  const browser = await launchChromium();
  try {
    const tab = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await tab.goto(`${page}#C0PAYMENTS`);
    const pending = tab.locator('#channel-C0PAYMENTS article.message', { hasText: 'invoice/INV-44' });
    await pending.getByRole('button', { name: 'Approve' }).waitFor(VISIBLE);
    const approved = tab.locator('#channel-C0PAYMENTS article.message', { hasText: 'invoice/INV-43' });
    await approved.getByRole('button', { name: '1 reply' }).click();
    await tab
      .getByRole('complementary', { name: 'Thread' })
      .locator('.thread-replies article')
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
