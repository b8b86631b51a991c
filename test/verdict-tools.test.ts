import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argoHealth, kstatus, runArgoLua, runKstatus, verdictTools } from './support/verdict-tools.ts';

// These prove the two verdict helpers themselves (hack/tools/kstatus, hack/tools/argo-lua) on
// hand-made objects; what they say about Greenlight's own objects is tested where those are made.

/** A custom resource whose controller reports progress with the kstatus conditions. */
const release = (name: string, status: object, metadata: object = {}): object => ({
  apiVersion: 'delivery.example.dev/v1',
  kind: 'Release',
  metadata: { name, namespace: 'apps', generation: 1, ...metadata },
  status: { observedGeneration: 1, ...status },
});

const condition = (type: string, status: string, reason: string, message: string): object => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2026-12-01T10:00:00Z',
});

let scripts: string;
beforeAll(async () => {
  scripts = await mkdtemp(join(tmpdir(), 'greenlight-lua-'));
  // Built from their Go modules on first use (about a minute and a half), then cached.
  await verdictTools();
}, 600_000);
afterAll(async () => {
  await rm(scripts, { recursive: true, force: true });
});

async function script(name: string, source: string): Promise<string> {
  const path = join(scripts, name);
  await writeFile(path, source);
  return path;
}

describe('kstatus', () => {
  it('reads Reconciling, Stalled, Ready and observedGeneration as Flux does, in input order', async () => {
    const verdicts = await kstatus([
      release('reconciling', {
        conditions: [
          condition('Ready', 'False', 'Waiting', 'waiting for approval'),
          condition('Reconciling', 'True', 'Waiting', 'waiting for approval'),
        ],
      }),
      release('ready', { conditions: [condition('Ready', 'True', 'Approved', 'approved by alice')] }),
      release('stalled', {
        conditions: [
          condition('Ready', 'False', 'Denied', 'denied by policy'),
          condition('Stalled', 'True', 'Denied', 'denied by policy'),
        ],
      }),
      release('not-yet-observed', { observedGeneration: 1 }, { generation: 2 }),
      release('no-conditions', {}),
      release('leaving', {}, { deletionTimestamp: '2026-12-01T10:05:00Z' }),
    ]);
    expect(verdicts).toEqual([
      { name: 'reconciling', status: 'InProgress', message: 'waiting for approval' },
      { name: 'ready', status: 'Current', message: 'Resource is Ready' },
      { name: 'stalled', status: 'Failed', message: 'denied by policy' },
      {
        name: 'not-yet-observed',
        status: 'InProgress',
        message: 'Release generation is 2, but latest observed generation is 1',
      },
      // kstatus' documented blind spot: an object without conditions counts as done.
      { name: 'no-conditions', status: 'Current', message: 'Resource is current' },
      { name: 'leaving', status: 'Terminating', message: 'Resource scheduled for deletion' },
    ]);
  });

  it('refuses input that is not a JSON array of objects with exit code 2', async () => {
    for (const input of ['{"kind":"Release"}', '[1]', '[{"kind":']) {
      const result = await runKstatus(input);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('not a JSON array of Kubernetes objects');
      expect(result.stdout).toBe('');
    }
  });
});

describe('argo-lua', () => {
  const readyScript = `
local health = { status = "Progressing", message = "waiting" }
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" and condition.status == "True" then
      health.status = "Healthy"
      health.message = condition.message
    elseif condition.type == "Stalled" and condition.status == "True" then
      health.status = "Degraded"
      health.message = condition.message
    end
  end
end
return health
`;

  it('runs the health script for each object and answers its status and message', async () => {
    const path = await script('ready.lua', readyScript);
    const verdicts = await argoHealth(path, [
      release('waiting', { conditions: [condition('Reconciling', 'True', 'Waiting', 'waiting')] }),
      release('ready', { conditions: [condition('Ready', 'True', 'Approved', 'approved by alice')] }),
      release('stalled', { conditions: [condition('Stalled', 'True', 'Denied', 'denied by policy')] }),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'no-status' } },
    ]);
    expect(verdicts).toEqual([
      { name: 'waiting', status: 'Progressing', message: 'waiting' },
      { name: 'ready', status: 'Healthy', message: 'approved by alice' },
      { name: 'stalled', status: 'Degraded', message: 'denied by policy' },
      { name: 'no-status', status: 'Progressing', message: 'waiting' },
    ]);
  });

  it('exits 1 with the reason when the script fails or answers a status Argo CD does not know', async () => {
    const failing = await script('failing.lua', 'return { status = obj.spec.missing.field }');
    const unknownStatus = await script('approved.lua', 'return { status = "Approved", message = "no" }');
    const stringLibrary = await script('string.lua', 'return { status = string.upper("healthy") }');
    const input = JSON.stringify([release('r', {})]);

    const failed = await runArgoLua(failing, input);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('attempt to index');
    expect(failed.stdout).toBe('');

    const unknown = await runArgoLua(unknownStatus, input);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('"Approved" is not an Argo CD health status');

    // Argo CD runs health customizations without Lua's string library (unless useOpenLibs is set).
    const noString = await runArgoLua(stringLibrary, input);
    expect(noString.code).toBe(1);
    expect(noString.stderr).toContain("attempt to index a non-table object(nil) with key 'upper'");
  });
});
