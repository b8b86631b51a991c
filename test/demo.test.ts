import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from './support/cli.ts';

// The README's main command, end to end: its own control plane, the install, the controller and the
// three sample workflows, checked by the demo itself (--once exits non-zero when one goes wrong), with
// the Slack page's address and a real Prometheus scraping the controller (--prometheus).

describe('greenlight demo --once --prometheus', () => {
  it('plays the seed article’s workflows and its Slack loop to the expected outcomes and cleans up', async () => {
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
    // The seed article's loop: a machine asks in Slack, hears back in the thread, its server is called.
    expect(output).toContain('Slack sends events to');
    expect(output).toContain('(url_verification passed)');
    expect(output).toContain(
      'payments-bot posts in #payments-requests: "Approval requested: payment of $300 for invoice INV-44"',
    );
    expect(output).toMatch(/Greenlight made finance\/slack-c0payreq-\d+-\d+ \(requester slack:B0PAYBOT\)/);
    expect(output).toContain(
      'Slack #payments-requests (thread): :white_check_mark: *Approved* by policy payments/below-500',
    );
    expect(output).toContain('Slack #payments-requests (thread): :raising_hand: *Escalated* to people');
    expect(output).toContain(
      'Slack #payments-requests (thread): :white_check_mark: *Approved* by <@U0ALICE>',
    );
    expect(output).toMatch(
      /automation server: verified dev\.greenlight\.approvalrequest\.approved for slack-c0payreq-\d+-\d+ \(slack:U0ALICE\)/,
    );
    expect(output).toContain('All sample workflows ended as expected.');
    expect(code).toBe(0);
  }, 120_000);
});
