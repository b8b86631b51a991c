import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ARGOCD_CM_FILE, ARGOCD_HEALTH_FILE, renderArgoCdPatch } from './gitops.ts';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');

describe("Argo CD's health check", () => {
  it('ships one script: the argocd-cm patch and the chart hold exactly deploy/argocd’s Lua (run `npm run generate`)', async () => {
    const script = await readFile(join(root, ARGOCD_HEALTH_FILE), 'utf8');
    expect(await readFile(join(root, ARGOCD_CM_FILE), 'utf8')).toBe(renderArgoCdPatch(script));
    expect(await readFile(join(root, 'charts', 'greenlight', 'files', 'argocd-health.lua'), 'utf8')).toBe(
      script,
    );
  });
});
