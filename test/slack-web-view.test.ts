import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { load } from 'js-yaml';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { WebClient } from '@slack/web-api';
import type { ApprovalIntakeSpec } from '../src/api/v1alpha1/approval-intake.ts';
import type { ApprovalPolicy } from '../src/api/v1alpha1/approval-policy.ts';
import { WORKFLOWS } from '../src/demo/workflows.ts';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { startSlackEmulator } from './slack-emulator/index.ts';
import { chromiumBinary, launchChromium } from './support/browser.ts';
import { REPOSITORY_ROOT } from './support/chart.ts';
import { cluster, createTestNamespace, kubeConfigAs } from './support/cluster.ts';
import { startController, waitForCondition } from './support/controller.ts';
import { greenlightAs } from './support/greenlight-objects.ts';
import { grant, REQUESTER_RULES } from './support/rbac.ts';
import { slackSettings } from './support/slack.ts';

// The demo's Slack, seen and used in a real browser (Debian's Chromium, headless, driven by
// playwright-core): the seed article's three workflows appear in the page as they happen, with the
// example policies and the real controller; an outsider's click on Approve is refused, privately; and
// alice's click decides the escalated payment, which updates in place, without a reload.

const admin = new GreenlightApi(kubeConfigAs('admin'));
const ci = new GreenlightApi(kubeConfigAs('ci'));

/** An example policy (examples/<file>) as a user applies it, in the test's namespace. */
async function applyExample(file: string, namespace: string): Promise<void> {
  const policy = load(await readFile(join(REPOSITORY_ROOT, 'examples', file), 'utf8')) as ApprovalPolicy;
  await greenlightAs('admin').createPolicy(namespace, policy.metadata.name ?? '', policy.spec);
}

/** A message in a channel of the page, found by (part of) its text. */
const message = (page: Page, channel: string, text: string | RegExp) =>
  page.locator(`#channel-${channel} article.message`, { hasText: text });

const VISIBLE = { state: 'visible', timeout: 20_000 } as const;

beforeAll(async () => {
  await chromiumBinary(); // installs Debian's chromium on a machine without it
}, 600_000);

describe('the Slack emulator in a browser', { timeout: 180_000 }, () => {
  it('shows the seed workflows as they happen; refuses an outsider; alice approves in place', async ({
    onTestFinished,
  }) => {
    const namespace = await createTestNamespace('slack-web-view');
    await grant(namespace, { user: cluster().usernames.ci }, REQUESTER_RULES);
    await applyExample('deployments/policy.yaml', namespace);
    await applyExample('payments/policy.yaml', namespace);
    const slack = await startSlackEmulator({ socketPingIntervalMs: 0 });
    const { settings, port } = await slackSettings(slack);
    slack.setInteractivityUrl(`http://127.0.0.1:${port}/slack/events`);
    const controller = await startController(namespace, { slack: settings });
    const browser = await launchChromium();
    onTestFinished(async () => {
      await browser.close();
      await controller.stop();
      await slack.close();
    });

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(slack.webUrl);
    await page.evaluate('window.stayed = true'); // gone if the page ever reloads
    expect(
      await page.getByRole('navigation', { name: 'Channels' }).getByRole('link').allTextContents(),
    ).toEqual([
      '# workflow-updates (new)',
      '# payments-approvals (new)',
      '# deployments (new)',
      '# private-ops (new)',
      '# payments-requests (new)',
    ]);
    await page.getByText('No messages yet.').first().waitFor(VISIBLE);

    // The three workflows, one after the other, each shown once Greenlight has posted it.
    const [staging, small, large] = WORKFLOWS;
    if (!staging || !small || !large) throw new Error('the demo has three workflows');
    await ci.createRequest(namespace, staging.name, staging.spec);
    await message(page, 'C0WORKFLOW', 'staging deployment v2.4.1 of web. Status: AUTO-APPROVED.').waitFor(
      VISIBLE,
    );
    await ci.createRequest(namespace, small.name, small.spec);
    await message(page, 'C0WORKFLOW', 'payment invoice/INV-42. Status: AUTO-APPROVED.').waitFor(VISIBLE);
    await ci.createRequest(namespace, large.name, large.spec);
    const announced = message(page, 'C0WORKFLOW', 'payment invoice/INV-43. Status: ESCALATED.');
    await announced.waitFor(VISIBLE);
    const announcedTs = await announced.getAttribute('data-ts');

    // The escalation, in its channel: a section per question, and real buttons.
    await page.getByRole('link', { name: /payments-approvals/ }).click();
    const escalation = message(page, 'C0PAYMENTS', 'Approval needed: payment invoice/INV-43');
    await escalation.waitFor(VISIBLE);
    expect(await escalation.locator('.field').allInnerTexts()).toEqual([
      'Action\npayment',
      'Resource\ninvoice/INV-43',
      'Requested by\nsystem:serviceaccount:ci:deployer',
      `Namespace\n${namespace}`,
    ]);
    expect(await escalation.innerText()).toContain('Why\nQ4 hardware order');
    const approve = escalation.getByRole('button', { name: 'Approve' });
    const deny = escalation.getByRole('button', { name: 'Deny' });

    // Deny asks first, as Slack does; cancelling sends nothing.
    await deny.click();
    const dialog = page.getByRole('dialog', { name: 'Deny this request?' });
    await dialog.waitFor(VISIBLE);
    expect(await dialog.innerText()).toContain(
      'payment invoice/INV-43 will be denied; the decision is final.',
    );
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });

    // dave has no SlackIdentity and carol is no approver: each is told why, privately.
    await page.getByLabel('Acting as').selectOption({ label: 'dave (Dave Operator)' });
    await approve.click();
    const daves = page.locator('#channel-C0PAYMENTS article.ephemeral', {
      hasText: 'Your answer was not recorded',
    });
    await daves.waitFor(VISIBLE);
    expect(await daves.innerText()).toContain('Only visible to you');
    await page.getByLabel('Acting as').selectOption({ label: 'carol (Carol Developer)' });
    await daves.waitFor({ state: 'hidden' });
    await approve.click();
    await page
      .locator('#channel-C0PAYMENTS article.ephemeral', { hasText: 'You are not an approver of payments.' })
      .waitFor(VISIBLE);
    const waiting = await admin.getRequest(namespace, large.name);
    expect(waiting.status?.phase).toBe('Escalated');
    expect(waiting.status?.approvals ?? []).toEqual([]);

    // alice approves: the same message turns into the decision, without its buttons.
    await page.getByLabel('Acting as').selectOption({ label: 'alice (Alice Approver)' });
    await approve.click();
    await escalation.filter({ hasText: 'Approved by @alice' }).waitFor(VISIBLE);
    await approve.waitFor({ state: 'detached' });
    expect(await escalation.locator('.edited').innerText()).toBe('(edited)');
    const approved = await waitForCondition(admin, namespace, large.name, 'Approved');
    expect(approved.status?.decision?.decidedBy).toBe('slack:U0ALICE');

    // The thread holds alice's answer; the announcement was updated too.
    await escalation.getByRole('button', { name: '1 reply' }).click();
    const thread = page.getByRole('complementary', { name: 'Thread' });
    await thread.locator('.thread-replies article', { hasText: '@alice ✓ approved' }).waitFor(VISIBLE);
    // The "escalated" announcement was edited in place: one message per request per channel.
    await page.getByRole('link', { name: /workflow-updates/ }).click();
    const edited = page.locator(`#channel-C0WORKFLOW article[data-ts="${announcedTs ?? ''}"]`);
    await edited.filter({ hasText: 'payment invoice/INV-43. Status: APPROVED.' }).waitFor(VISIBLE);
    expect(await edited.locator('.edited').innerText()).toBe('(edited)');

    expect(await page.evaluate('window.stayed')).toBe(true);
    expect(errors).toEqual([]);
  });

  it('shows a machine asking through Slack intake: its message, Greenlight’s answer in the thread, a reaction', async ({
    onTestFinished,
  }) => {
    const namespace = await createTestNamespace('slack-web-view-intake');
    await applyExample('payments/policy.yaml', namespace);
    const intake = load(
      await readFile(join(REPOSITORY_ROOT, 'examples', 'payments', 'intake.yaml'), 'utf8'),
    ) as {
      spec: ApprovalIntakeSpec;
    };
    await greenlightAs('admin').createIntake(namespace, 'payments', intake.spec);
    const slack = await startSlackEmulator({ socketPingIntervalMs: 0 });
    const { settings, port } = await slackSettings(slack);
    const controller = await startController(namespace, { slack: settings });
    const browser = await launchChromium();
    onTestFinished(async () => {
      await browser.close();
      await controller.stop();
      await slack.close();
    });
    expect(
      (await slack.subscribeEvents({ via: 'http', requestUrl: `http://127.0.0.1:${port}/slack/events` }))
        .verified,
    ).toBe(true);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(slack.webUrl);
    await page.getByRole('link', { name: /payments-requests/ }).click();

    // The payments bot asks, as a machine does: a message with Greenlight's metadata.
    const bot = new WebClient('xoxb-payments-bot', {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 0 },
    });
    await bot.chat.postMessage({
      channel: '#payments-requests',
      text: 'Approval requested: payment of $300 for invoice INV-77',
      metadata: {
        event_type: 'greenlight_approval_requested',
        event_payload: {
          action: 'payment',
          resource: 'invoice/INV-77',
          parameters: { amount: 300, currency: 'USD' },
        },
      },
    });
    const asked = message(page, 'C0PAYREQ', 'payment of $300 for invoice INV-77');
    await asked.waitFor(VISIBLE);
    expect(await asked.locator('.author').innerText()).toBe('payments-bot');
    expect(await asked.locator('.badge').innerText()).toBe('APP');
    // Greenlight's answer: in the thread, and a reaction on the asking message at a glance.
    await asked.locator('.reaction').first().waitFor(VISIBLE);
    await asked.getByRole('button', { name: /repl/ }).click();
    const thread = page.getByRole('complementary', { name: 'Thread' });
    await thread
      .locator('.thread-replies article', { hasText: 'Approved by policy payments/below-500' })
      .waitFor(VISIBLE);
  });
});
