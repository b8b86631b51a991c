import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ControllerManager } from '../../controllers/manager.ts';
import { PooledKubeConfig } from '../../k8s/pooled-kubeconfig.ts';
import { randomBytes } from 'node:crypto';
import { startAutomationServer, type AutomationServer } from '../../demo/automation.ts';
import { prometheusSummary, startDemoPrometheus } from '../../demo/prometheus.ts';
import { connectAutomation, DEMO_NAMESPACES, EXAMPLES, installDemo } from '../../demo/setup.ts';
import { emulatorSlackSide } from '../../demo/slack-side.ts';
import {
  play,
  playAsk,
  SLACK_ASKS,
  WORKFLOWS,
  type SlackAsk,
  type SlackSide,
  type Workflow,
} from '../../demo/workflows.ts';
import { freeLoopbackPort } from '../../local-cluster/ports.ts';
import type { LocalPrometheus } from '../../local-cluster/prometheus.ts';
import {
  startSlackEmulator,
  type SlackEmulator,
  type UrlVerification,
} from '../../../test/slack-emulator/index.ts';
import { startLocalCluster, type LocalCluster } from '../../local-cluster/control-plane.ts';
import { metricsRoutes, startHttpServer } from '../../observability/http.ts';
import { createLogger } from '../../observability/logger.ts';
import { GreenlightMetrics } from '../../observability/metrics.ts';

const help = `Usage: greenlight demo [--dir DIR] [--once] [--prometheus]

Starts a local control plane (etcd and kube-apiserver, built from their Go modules on first use and
cached), installs Greenlight's CRDs, admission policies and the example policies, runs the controller,
and plays the sample workflows: a staging deployment of v2.4.1 auto-approved, a $450 payment
auto-approved, a $5,000 payment escalated and approved by a person. Then the seed article's loop: a
payments bot asks in #payments-requests, Greenlight answers in the thread, a person clicks for the
large payment, and a local automation server prints each signed callback it verified. Slack is a
local emulator: it prints the address of a web page that shows its channels live, where you can click
Approve or Deny as alice, bob, carol or dave. Then it keeps running so you can try your own requests
(Ctrl-C stops everything).

Flags:
  --dir DIR     keep state, logs and kubeconfigs in DIR (default: a temporary folder)
  --once        play the workflows, check their outcomes, and exit (0 when all went as expected)
  --prometheus  also run a real Prometheus (Debian's package, unpacked once into a cache) that scrapes
                the controller with Greenlight's alert rules, and print its address
  -h, --help    show this help`;

const kubeConfigOf = (file: string): PooledKubeConfig => {
  const config = new PooledKubeConfig();
  config.loadFromFile(file);
  return config;
};

export async function runDemo(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      dir: { type: 'string' },
      once: { type: 'boolean' },
      prometheus: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  const say = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const cluster = await startLocalCluster({
    ...(values.dir === undefined ? {} : { dir: values.dir }),
    onProgress: say,
  });
  try {
    return await demonstrate(
      cluster,
      { once: values.once === true, prometheus: values.prometheus === true },
      say,
    );
  } finally {
    say('Stopping the controller and the control plane');
    await cluster.stop();
  }
}

async function demonstrate(
  cluster: LocalCluster,
  { once, prometheus: withPrometheus }: { readonly once: boolean; readonly prometheus: boolean },
  say: (line: string) => void,
): Promise<number> {
  const admin = kubeConfigOf(cluster.kubeconfigs.admin);
  say('Installing Greenlight: CRDs, admission policies, RBAC and the example policies');
  await installDemo(cluster, admin);

  const slack = await startSlackEmulator();
  const slackPort = await freeLoopbackPort();
  const log = createWriteStream(join(cluster.dir, 'controller.log'));
  const metrics = new GreenlightMetrics();
  const manager = await ControllerManager.create({
    kubeConfig: admin,
    logger: createLogger({ format: 'text', level: 'info', stream: log }),
    metrics,
    identity: 'greenlight-demo',
    slack: {
      settings: {
        botToken: slack.workspace.botToken,
        signingSecret: slack.workspace.signingSecret,
        appToken: undefined,
        apiUrl: slack.apiUrl,
      },
      bindAddress: `127.0.0.1:${slackPort}`,
    },
  });
  await manager.start();
  const running = manager.run();
  const server = await startHttpServer({ address: '127.0.0.1:0', routes: metricsRoutes(metrics) });
  say(`Controller running (logs: ${join(cluster.dir, 'controller.log')}), talking to a local Slack emulator`);
  const eventsUrl = `http://127.0.0.1:${slackPort}/slack/events`;
  slack.setInteractivityUrl(eventsUrl);
  say(
    `Slack, in your browser: ${slack.webUrl} (the emulator's channels, live; click as alice, bob, carol or dave)`,
  );
  const slackSide = emulatorSlackSide(slack, eventsUrl, metrics);
  const { automation, subscribed } = await connectSlackLoop(slack, admin, eventsUrl, say);
  let prometheus: LocalPrometheus | undefined;

  let failures: number;
  try {
    if (withPrometheus && server) {
      prometheus = await startDemoPrometheus(cluster.dir, `127.0.0.1:${server.port}`);
      say(
        `Prometheus, with Greenlight's alert rules: ${prometheus.url}classic/alerts (API: ${prometheus.url}api/v1/alerts)`,
      );
    }
    failures = await playAll(cluster, slackSide, say);
    const expected = SLACK_ASKS.length + 1; // both asks approved, and the large one escalated first
    await slack.waitFor(() => automation.callbacks.length >= expected, 10_000).catch(() => undefined);
    if (!subscribed.verified || automation.callbacks.length < expected) {
      failures += 1;
      say(`  ✗ expected at least ${expected} verified callbacks, got ${automation.callbacks.length}`);
    }
    if (prometheus) say(`\n${await prometheusSummary(prometheus.api)}`);
    if (!once) {
      say(tryYourOwn(cluster, server ? `http://127.0.0.1:${server.port}/metrics` : '', slack));
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
  } finally {
    await prometheus?.stop();
    await manager.stop();
    await running;
    await server?.close();
    await automation.close();
    await slack.close();
    await admin.close();
    log.end();
  }
  say(
    failures === 0
      ? '\nAll sample workflows ended as expected.'
      : `\n${failures} workflow(s) did not end as expected.`,
  );
  return failures === 0 ? 0 : 1;
}

/**
 * The seed article's loop: the automation server the payments policy calls back (with a signing secret
 * of this run's own), and Slack's events sent to the controller.
 */
async function connectSlackLoop(
  slack: SlackEmulator,
  admin: PooledKubeConfig,
  eventsUrl: string,
  say: (line: string) => void,
): Promise<{ automation: AutomationServer; subscribed: UrlVerification }> {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const automation = await startAutomationServer(secret, (callback) => {
    say(
      `  ${new Date().toISOString().slice(11, 19)}  automation server: verified ${callback.type} for ` +
        `${callback.subject}${callback.decidedBy ? ` (${callback.decidedBy})` : ''}, webhook-id ${callback.id}`,
    );
  });
  await connectAutomation(admin, automation.url, secret);
  const subscribed = await slack.subscribeEvents({ via: 'http', requestUrl: eventsUrl });
  say(
    `Slack sends events to ${eventsUrl} (url_verification ${subscribed.verified ? 'passed' : 'FAILED'}); ` +
      `the payments policy calls ${automation.url} back`,
  );
  return { automation, subscribed };
}

/** Plays the sample workflows and the Slack asks; returns how many did not end as expected. */
async function playAll(
  cluster: LocalCluster,
  slackSide: SlackSide,
  say: (line: string) => void,
): Promise<number> {
  const identities = { ci: kubeConfigOf(cluster.kubeconfigs.ci) };
  let failures = 0;
  const check = (
    expect: Workflow['expect'] | SlackAsk['expect'],
    request: { status?: { phase?: string; decision?: { decidedBy: string } } },
  ): void => {
    if (request.status?.phase !== expect.phase || request.status.decision?.decidedBy !== expect.decidedBy) {
      failures += 1;
      say(`  ✗ expected ${expect.phase} by ${expect.decidedBy}`);
    }
  };
  for (const workflow of WORKFLOWS) check(workflow.expect, await play(workflow, identities, slackSide, say));
  for (const ask of SLACK_ASKS) check(ask.expect, await playAsk(ask, identities, slackSide, say));
  return failures;
}

function tryYourOwn(
  cluster: LocalCluster,
  metricsUrl: string,
  slack: { readonly webUrl: string; readonly apiUrl: string },
): string {
  const cli = `node ${process.argv[1] ?? 'src/cli/main.ts'}`;
  return `
Greenlight is running. Try your own, in another shell:

  export KUBECONFIG=${cluster.kubeconfig}
  alias greenlight='${cli}'
  alias kubectl='${cluster.kubectl}'

  # the CI pipeline asks; the rules answer at once
  greenlight request --context ci -n ${DEMO_NAMESPACES.finance} --action payment --param amount=120 --param currency=USD --wait

  # a larger payment waits for a person: click Approve in Slack (${slack.webUrl}) or use greenlight approve
  greenlight request --context ci -n ${DEMO_NAMESPACES.finance} --action payment --param amount=9000 --param currency=USD --name my-payment
  greenlight approve my-payment --context alice -n ${DEMO_NAMESPACES.finance} --comment "checked"
  greenlight explain my-payment --context alice -n ${DEMO_NAMESPACES.finance}

  # carol may look but is no approver: her answer is refused, and says why
  greenlight approve my-payment --context carol -n ${DEMO_NAMESPACES.finance}

  # the payments bot asks in #payments-requests (the Slack emulator), as a machine without Kubernetes would
  curl -s ${slack.apiUrl}chat.postMessage -H 'Authorization: Bearer xoxb-payments-bot' \\
    -H 'Content-Type: application/json' -d '{"channel": "#payments-requests", "text": "May I?",
    "metadata": {"event_type": "greenlight_approval_requested", "event_payload": {"action": "payment",
    "resource": "invoice/INV-99", "parameters": {"amount": 90, "currency": "USD"}}}}'
  kubectl get approvalrequests -n ${DEMO_NAMESPACES.finance} -l greenlight.dev/intake

  # your own namespace: the CI pipeline may ask there, the approvers group may answer
  kubectl create namespace orders
  kubectl -n orders create rolebinding ci-requests --clusterrole=greenlight-requester --serviceaccount=ci:deployer
  kubectl -n orders create rolebinding approvers --clusterrole=greenlight-approver --group=approvers
  # then an ApprovalPolicy there: see docs/getting-started.md

  kubectl get approvalrequests --all-namespaces -o wide
  kubectl get approvalpolicies -A
  greenlight test ${EXAMPLES}
  ${metricsUrl ? `curl -s ${metricsUrl} | grep greenlight_` : ''}

Press Ctrl-C to stop.`;
}
