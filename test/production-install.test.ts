import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { freeLoopbackPort } from '../src/local-cluster/ports.ts';
import { REPOSITORY_ROOT, run } from './support/chart.ts';
import { cluster, createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { waitForCondition } from './support/controller.ts';
import { eventually } from './support/eventually.ts';
import { grant, REQUESTER_RULES } from './support/rbac.ts';

// What the container image holds, built without a container engine: the same steps as the
// Dockerfile's build stage — compile, `npm pack` (the files package.json lists), unpack,
// `npm ci --omit=dev` with the project's lockfile, drop the dependencies' type declarations and source
// maps — into a temporary folder, then `greenlight
// controller` started from that folder against the test control plane. The repository's own dist/
// and node_modules are not touched or used.

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
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
  const staging = join(work, 'package');
  app = join(work, 'app');
  await mkdir(app, { recursive: true });
  // 1. Compile into the staging folder (as `npm run build` does into dist/).
  const built = await run(process.execPath, [
    join(REPOSITORY_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    join(REPOSITORY_ROOT, 'tsconfig.build.json'),
    '--outDir',
    join(staging, 'dist'),
  ]);
  expect(built.code, built.stdout + built.stderr).toBe(0);
  // 2. The package's other files, as package.json lists them, and pack it.
  const manifest = JSON.parse(await readFile(join(REPOSITORY_ROOT, 'package.json'), 'utf8')) as {
    files: string[];
  };
  for (const entry of ['package.json', 'README.md', ...manifest.files.filter((file) => file !== 'dist')])
    await cp(join(REPOSITORY_ROOT, entry), join(staging, entry), { recursive: true });
  const packed = await run(npm, ['pack', '--ignore-scripts', '--pack-destination', work, '--json'], {
    cwd: staging,
  });
  expect(packed.code, packed.stderr).toBe(0);
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  // 3. Unpack and install the production dependencies from the lockfile.
  const unpacked = await run('tar', ['-xzf', join(work, filename), '-C', app, '--strip-components=1']);
  expect(unpacked.code, unpacked.stderr).toBe(0);
  await cp(join(REPOSITORY_ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
  const installed = await run(
    npm,
    ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
    { cwd: app },
  );
  expect(installed.code, installed.stderr).toBe(0);
  // 4. Without the dependencies' type declarations and source maps.
  const pruned = await run('find', [
    join(app, 'node_modules'),
    '-type',
    'f',
    '(',
    ...['*.d.ts', '*.d.mts', '*.d.cts'].flatMap((pattern) => ['-name', pattern, '-o']),
    '-name',
    '*.map',
    ')',
    '-delete',
  ]);
  expect(pruned.code, pruned.stderr).toBe(0);
}, 300_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('the production install (what the container image holds)', () => {
  it('holds the compiled package and production dependencies only', async () => {
    const shipped = await files(app);
    expect(shipped).toContain(join('dist', 'src', 'cli', 'main.js'));
    expect(shipped.filter((file) => !file.startsWith('node_modules') && file.endsWith('.ts'))).toEqual([]);
    expect(shipped.some((file) => /^dist\/.*\.test\.js$/.test(file))).toBe(false);
    const modules = await readdir(join(app, 'node_modules'));
    for (const dependency of ['@kubernetes', '@slack', 'prom-client', 'winston', 'js-yaml', 'typebox'])
      expect(modules).toContain(dependency);
    for (const devDependency of [
      'typescript',
      'vitest',
      'eslint',
      'prettier',
      'fast-check',
      'typescript-eslint',
    ])
      expect(modules).not.toContain(devDependency);
    // Small: the package and its production dependencies (the base image adds Node.js itself).
    expect(await sizeOf(app)).toBeLessThan(64 * 1024 * 1024);
  });

  it('starts `greenlight controller` and decides a request', async ({ onTestFinished }) => {
    const namespace = await createTestNamespace('production-install');
    await grant(namespace, { user: cluster().usernames.ci }, REQUESTER_RULES);
    await kubeConfigAs('admin')
      .makeApiClient(CustomObjectsApi)
      .createNamespacedCustomObject({
        group: 'greenlight.dev',
        version: 'v1alpha1',
        namespace,
        plural: 'approvalpolicies',
        body: {
          apiVersion: 'greenlight.dev/v1alpha1',
          kind: 'ApprovalPolicy',
          metadata: { name: 'staging' },
          spec: {
            rules: [
              {
                name: 'staging-is-free',
                when: "params.environment == 'staging'",
                decision: 'Approve',
                message: 'staging deployments are approved',
              },
            ],
          },
        },
      });
    const [metrics, probes] = [await freeLoopbackPort(), await freeLoopbackPort()];
    // As the image's entrypoint runs it: node dist/src/cli/main.js controller, NODE_ENV=production.
    const controller = spawn(
      process.execPath,
      [
        join(app, 'dist', 'src', 'cli', 'main.js'),
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
          NODE_ENV: 'production',
          KUBECONFIG: cluster().kubeconfigs.admin,
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
    expect(await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text()).toMatch(
      /greenlight_decisions_total\{outcome="approved",decided_by="policy"\} 1/,
    );
    controller.kill('SIGTERM');
    expect(await exited, logs.join('')).toBe(0);
  });
});
