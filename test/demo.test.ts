import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from './support/cli.ts';

// The README's main command, end to end: its own control plane, the install, the controller and the
// three sample workflows, checked by the demo itself (--once exits non-zero when one goes wrong), with
// the Slack page's address and a real Prometheus scraping the controller (--prometheus).

describe('greenlight demo --once --prometheus', () => {
  it('plays the seed article’s workflows to the expected outcomes and cleans up', async () => {
    const child = spawn(process.execPath, [CLI, 'demo', '--once', '--prometheus'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let page: Promise<string> | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      // The page is there while the demo runs: read it as a browser would, once.
      const url = /^Slack, in your browser: (\S+)/m.exec(output)?.[1];
      page ??= url === undefined ? undefined : fetch(url).then((response) => response.text());
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(await page).toContain('<label for="viewer">Acting as</label>');
    expect(output).toMatch(
      /delivery\/deploy-web-v2-4-1-staging: Approved by policy:deployments\/staging-is-free/,
    );
    expect(output).toMatch(/finance\/payment-inv-42: Approved by policy:payments\/below-500/);
    expect(output).toMatch(/finance\/payment-inv-43: Escalated: 0 of 1 approvals given for policy payments/);
    expect(output).toContain('Slack #payments-approvals: Approval needed: payment invoice/INV-43');
    expect(output).toContain('[Approve] [Deny]');
    expect(output).toMatch(/finance\/payment-inv-43: Approved by slack:U0ALICE/);
    expect(output).toContain(
      'Slack #workflow-updates: Approval requested for staging deployment `v2.4.1` of web. Status: AUTO-APPROVED.',
    );
    // One message per request per channel: the escalated payment's announcement is updated in place.
    expect(output).toContain(
      'Slack #workflow-updates (updated): Approval requested for payment `invoice/INV-43`. Status: APPROVED.',
    );
    expect(output).not.toContain(
      'Slack #workflow-updates: Approval requested for payment `invoice/INV-43`. Status: APPROVED.',
    );
    expect(output).toMatch(/^Slack, in your browser: http:\/\/127\.0\.0\.1:\d+\/ /m);
    expect(output).toMatch(
      /^Prometheus, with Greenlight's alert rules: http:\/\/127\.0\.0\.1:\d+\/classic\/alerts /m,
    );
    expect(output).toContain('Prometheus scrapes the controller; alerts pending or firing: none');
    expect(output).toContain('All sample workflows ended as expected.');
    expect(code).toBe(0);
  }, 120_000);
});
