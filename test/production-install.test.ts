import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageRuntime } from '../bench/lib/build.ts';
import { bundle } from '../scripts/bundle.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { freeLoopbackPort } from '../src/local-cluster/ports.ts';
import { REPOSITORY_ROOT, run } from './support/chart.ts';
import { cluster, createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { waitForCondition } from './support/controller.ts';
import { eventually } from './support/eventually.ts';
import { greenlightAs } from './support/greenlight-objects.ts';
import { grant, REQUESTER_RULES } from './support/rbac.ts';
import { startSlackEmulator } from './slack-emulator/index.ts';

// What the container image holds, built without a container engine: the same steps as the
// Dockerfile — compile (tsc), bundle (scripts/bundle.ts), package.json — into a temporary folder, then
// `greenlight controller` started from that folder (no node_modules anywhere above it) against the
// test control plane and the Slack emulator. The repository's own dist/ and bundle/ are not touched.

let work: string;
let app: string;

async function sizeOf(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.size;
  const entries = await readdir(path);
  const sizes = await Promise.all(entries.map((entry) => sizeOf(join(path, entry))));
  return sizes.reduce((total, size) => total + size, info.size);
}

async function files(path: string): Promise<string[]> {
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(path, join(entry.parentPath, entry.name)));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'greenlight-image-'));
  app = join(work, 'app');
  await mkdir(app, { recursive: true });
  // 1. Compile (the Dockerfile's `npm run build`: tsc, then the bundle).
  const dist = join(work, 'dist');
  const built = await run(process.execPath, [
    join(REPOSITORY_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    join(REPOSITORY_ROOT, 'tsconfig.build.json'),
    '--outDir',
    dist,
  ]);
  expect(built.code, built.stdout + built.stderr).toBe(0);
  await bundle({ from: dist, out: join(app, 'bundle') });
  // 2. What the run stage copies: package.json and the bundle.
  await cp(join(REPOSITORY_ROOT, 'package.json'), join(app, 'package.json'));
}, 300_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the production install (what the container image holds)', () => {
  it('holds the bundle and package.json only: no node_modules, no TypeScript, small', async () => {
    const shipped = await files(app);
    expect(shipped).toContain(join('bundle', 'main.mjs'));
    expect(shipped.filter((file) => file !== 'package.json' && !file.startsWith('bundle/'))).toEqual([]);
    expect(shipped.filter((file) => file.endsWith('.ts'))).toEqual([]);
    expect(shipped.some((file) => file.includes('node_modules'))).toBe(false);
    // One chunk per command: the controller's own is small, the libraries are shared chunks.
    expect(shipped.filter((file) => /^bundle\/chunks\/controller-.*\.mjs$/.test(file))).toHaveLength(1);
    expect(await sizeOf(app)).toBeLessThan(16 * 1024 * 1024);
  });

  it('starts `greenlight controller`, decides a request and announces it in Slack over Socket Mode', async ({
    onTestFinished,
  }) => {
    const namespace = await createTestNamespace('production-install');
    await grant(namespace, { user: cluster().usernames.ci }, REQUESTER_RULES);
    await greenlightAs('admin').createPolicy(namespace, 'staging', {
      notify: { slack: { channel: '#workflow-updates' } },
      rules: [
        {
          name: 'staging-is-free',
          when: "params.environment == 'staging'",
          decision: 'Approve',
          message: 'staging deployments are approved',
        },
      ],
    });
    const slack = await startSlackEmulator({ socketPingIntervalMs: 0 });
    onTestFinished(() => slack.close());
    const [metrics, probes] = [await freeLoopbackPort(), await freeLoopbackPort()];
    // As the image runs it: node (with its ENTRYPOINT's flags) bundle/main.mjs controller, with the
    // Dockerfile's environment.
    const image = imageRuntime();
    const controller = spawn(
      process.execPath,
      [
        ...image.nodeFlags,
        join(app, 'bundle', 'main.mjs'),
        'controller',
        `--namespace=${namespace}`,
        `--metrics-bind-address=127.0.0.1:${metrics}`,
        `--health-probe-bind-address=127.0.0.1:${probes}`,
        '--leader-elect',
        `--leader-election-namespace=${namespace}`,
      ],
      {
        cwd: app,
        env: {
          PATH: process.env['PATH'] ?? '',
          ...image.env,
          NODE_OPTIONS: image.nodeOptions,
          KUBECONFIG: cluster().kubeconfigs.admin,
          SLACK_BOT_TOKEN: slack.workspace.botToken,
          SLACK_APP_TOKEN: slack.workspace.appToken,
          SLACK_API_URL: slack.apiUrl,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const logs: string[] = [];
    controller.stderr.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    const exited = new Promise<number | null>((resolve) => controller.once('exit', resolve));
    onTestFinished(async () => {
      controller.kill('SIGKILL');
      await exited;
    });
    await eventually(
      async () => {
        expect((await fetch(`http://127.0.0.1:${probes}/readyz`)).status).toBe(200);
      },
      { timeoutMs: 30_000 },
    );

    const ci = new GreenlightApi(kubeConfigAs('ci'));
    await ci.createRequest(namespace, 'deploy-web', {
      action: 'deploy',
      resource: 'web',
      requester: cluster().usernames.ci,
      parameters: { version: 'v2.4.1', environment: 'staging' },
    });
    const decided = await waitForCondition(
      new GreenlightApi(kubeConfigAs('admin')),
      namespace,
      'deploy-web',
      'Approved',
    );
    expect(decided.status?.decision?.decidedBy).toBe('policy:staging/staging-is-free');
    const announced = await slack.waitFor(() => slack.messages('C0WORKFLOW')[0], 15_000);
    expect(announced.text).toContain('deploy');
    expect(slack.connectedClients()).toBe(1);
    expect(await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text()).toMatch(
      /greenlight_decisions_total\{outcome="approved",decided_by="policy"\} 1/,
    );
    controller.kill('SIGTERM');
    expect(await exited, logs.join('')).toBe(0);
  });
});
