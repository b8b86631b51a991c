/**
 * `npm run chaos`: a steady stream of requests through a real control plane, Slack emulator and
 * webhook receiver while faults are injected, then the invariant checker over everything that
 * happened. `--quick` is the CI form; the full run of every scenario writes its table into
 * docs/reliability.md (a run of some, with `--scenario`, only with `--write-docs`).
 *
 *   npm run chaos -- [--quick] [--seed=N] [--scenario=a,b] [--write-docs]
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { dump, load } from 'js-yaml';
import { GreenlightApi } from '../src/k8s/greenlight-api.ts';
import { AuditFollower } from './audit.ts';
import { check, decisionWrites, firstDecisionAfter, type Facts, type Verdict } from './invariants.ts';
import { People, RequestStream } from './load.ts';
import { TcpProxy } from './proxy.ts';
import { serviceAccountKubeconfig } from './refusals.ts';
import { seeded } from './random.ts';
import { Recorder } from './recorder.ts';
import { leaderAmong, LEASE } from './replicas.ts';
import { SCENARIOS, type Fault, type Scenario } from './scenarios.ts';
import {
  countedDecisions,
  listRequests,
  openWorkspace,
  slackMessages,
  startChaosCluster,
  type ChaosCluster,
} from './world.ts';

export interface ScenarioResult {
  readonly scenario: string;
  readonly faults: string;
  readonly injected: number;
  readonly verdict: Verdict;
  /** Seconds from the end of each fault until decisions (or Slack posts) flowed again. */
  readonly recoverySeconds: readonly number[];
  /** Seconds from the end of each fault until the next decision was written (any request's). */
  readonly resumedSeconds: readonly number[];
  readonly settled: boolean;
  readonly createFailures: number;
  readonly clicks: { readonly sent: number; readonly failed: number };
  readonly restarts: number;
  readonly fencedWrites: number;
  /** Watch resumes the API server refused with 410 Gone (each answered by a new list). */
  readonly watchesExpired: number;
  /** The machine's 1-minute load average as the scenario ended (other work shares the cores). */
  readonly load: number;
  readonly seconds: number;
  readonly notes: readonly string[];
}

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function proxiedKubeconfig(cluster: ChaosCluster, proxy: TcpProxy, dir: string): Promise<string> {
  const config = load(await readFile(cluster.local.kubeconfigs.admin, 'utf8')) as {
    clusters: { cluster: { server: string } }[];
  };
  for (const entry of config.clusters) entry.cluster.server = `https://127.0.0.1:${proxy.port}`;
  const file = join(dir, 'proxied.kubeconfig');
  await writeFile(file, dump(config), { mode: 0o600 });
  return file;
}

async function runScenario(
  cluster: ChaosCluster,
  scenario: Scenario,
  options: { quick: boolean; seed: number; runDir: string },
): Promise<ScenarioResult> {
  const { quick } = options;
  const startedAt = Date.now();
  const random = seeded(options.seed);
  const rate = scenario.rate(quick);
  say(`${scenario.name}: ${scenario.describe(quick)}; ${rate} requests/s`);
  const proxy = scenario.viaProxy
    ? await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(cluster.local.server).port) })
    : undefined;
  const kubeconfig = proxy
    ? await proxiedKubeconfig(cluster, proxy, options.runDir)
    : scenario.asServiceAccount
      ? await serviceAccountKubeconfig(cluster, options.runDir)
      : undefined;
  const workspace = await openWorkspace(cluster, scenario.name, {
    replicas: 2,
    runDir: options.runDir,
    ...(kubeconfig ? { kubeconfig } : {}),
  });
  const recorder = new Recorder(cluster.admin, workspace.namespace, LEASE);
  const auditLog = cluster.local.auditLog;
  if (auditLog === undefined) throw new Error('the chaos cluster keeps no audit log');
  const audit = new AuditFollower(auditLog, workspace.namespace, LEASE);
  const people = new People(workspace.slack);
  try {
    await leaderAmong(workspace.replicas);
    const stream = new RequestStream({
      api: new GreenlightApi(cluster.ci),
      namespace: workspace.namespace,
      requester: cluster.requester,
      random,
      // About one request for people every five seconds: Slack posts one message a second per channel.
      escalateEvery: rate * 5,
    });
    people.start({
      requests: () => [...recorder.requests.values()].map((seen) => seen.latest),
      expectation: (name) => stream.created.get(name)?.expectation,
      urls: () => workspace.replicas.map((replica) => replica.slackUrl),
    });
    const faults: Fault[] = [];
    const notes: string[] = [];
    const running = stream.run(rate);
    await pause(3_000);
    await scenario.inject({
      cluster,
      workspace,
      random,
      quick,
      faults,
      notes,
      undecided: () => [...recorder.undecided],
      say,
      ...(proxy ? { proxy } : {}),
    });
    await pause(quick ? 3_000 : 10_000);
    await running.stop();
    say(`  ${stream.created.size} requests created; settling`);

    const allDecided = (): boolean =>
      recorder.decided >= stream.created.size &&
      [...stream.created.keys()].every((name) => recorder.requests.get(name)?.decidedAt !== undefined);
    const settleMs = quick ? 120_000 : 600_000;
    await recorder.until(allDecided, settleMs);
    const restarted = (): boolean => workspace.replicas.some((replica) => replica.exits.length > 0);
    const facts = async (): Promise<Facts> => {
      const finals = new Map(
        (await listRequests(cluster, workspace.namespace)).map((request) => [
          request.metadata.name ?? '',
          {
            uid: request.metadata.uid ?? '',
            phase: request.status?.phase ?? 'Pending',
            ...(request.status?.decision?.decidedBy ? { decidedBy: request.status.decision.decidedBy } : {}),
          },
        ]),
      );
      const metrics = restarted() ? undefined : await countedDecisions(workspace.replicas);
      return {
        created: new Map([...stream.created].map(([name, created]) => [name, created.expectation])),
        finals,
        phases: new Map([...recorder.requests].map(([name, seen]) => [name, seen.phases])),
        writes: [...(await audit.read())],
        leases: [...audit.leases, ...recorder.leases],
        slack: slackMessages(workspace.slack),
        webhooks: workspace.receiver.deliveries,
        ...(metrics ? { metrics } : {}),
        crashes: workspace.replicas.flatMap((replica) =>
          replica.exits
            .filter((exit) => !exit.killed && !exit.lostLease)
            .map(
              (exit) =>
                `replica ${exit.replica} (${exit.identity}) ended by itself: ${exit.signal ?? `exit ${exit.code}`}`,
            ),
        ),
      };
    };
    // Slack's and the receiver's backlogs drain after the decisions: wait for the verdict to settle.
    const deadline = Date.now() + settleMs;
    let verdict = check(await facts());
    while (Date.now() < deadline && (verdict.lost > 0 || verdict.duplicated > 0)) {
      await pause(2_000);
      verdict = check(await facts());
    }
    // The evidence, for whoever reads a failure: Slack's messages and the webhook receiver's log.
    await writeFile(
      join(workspace.logDir, 'slack-messages.json'),
      JSON.stringify(workspace.slack.messages(), null, 1),
    );
    await writeFile(
      join(workspace.logDir, 'webhooks.json'),
      JSON.stringify(workspace.receiver.deliveries, null, 1),
    );
    const recoverySeconds = faults.map(
      (fault) => recoveryOf(fault, scenario, stream, recorder, workspace) / 1000,
    );
    const decisions = decisionWrites(audit.writes);
    const resumedSeconds = faults.map((fault) => {
      const from = scenario.recoveryFromStart ? fault.at : fault.endedAt;
      const first = firstDecisionAfter(decisions.values(), from);
      return first === undefined ? Number.NaN : (first - from) / 1000;
    });
    const exits = workspace.replicas.flatMap((replica) => replica.exits);
    const result: ScenarioResult = {
      scenario: scenario.name,
      faults: scenario.describe(quick),
      injected: faults.length,
      verdict,
      recoverySeconds,
      resumedSeconds,
      settled: allDecided(),
      createFailures: stream.failedAttempts,
      clicks: people.clicks,
      restarts: exits.filter((exit) => !exit.killed || exit.signal === 'SIGKILL').length,
      fencedWrites: exits.reduce((sum, exit) => sum + exit.fenced, 0),
      watchesExpired: workspace.replicas.reduce((sum, replica) => sum + replica.watchesExpired, 0),
      load: Math.round(loadavg()[0] ?? 0),
      seconds: Math.round((Date.now() - startedAt) / 1000),
      notes,
    };
    say(
      `  ${verdict.requests} requests: ${verdict.decidedCorrectly} correct, ${verdict.lost} lost, ${verdict.duplicated} duplicated, ${verdict.contradictory} contradictory`,
    );
    for (const problem of verdict.problems) say(`    ${problem}`);
    return result;
  } finally {
    people.stop();
    recorder.stop();
    await workspace.close();
    await proxy?.close();
  }
}

/**
 * From the end of a fault until things flowed again: the first decision of a request created after
 * it, or (Slack faults) the first message Slack accepted after it.
 */
function recoveryOf(
  fault: Fault,
  scenario: Scenario,
  stream: RequestStream,
  recorder: Recorder,
  workspace: { readonly slack: { calls(method?: string): readonly { at: Date; ok: boolean }[] } },
): number {
  if (scenario.recoversInSlack) {
    const posted = workspace.slack.calls().find((call) => call.ok && call.at.getTime() >= fault.endedAt);
    return posted ? posted.at.getTime() - fault.endedAt : Number.NaN;
  }
  const from = scenario.recoveryFromStart ? fault.at : fault.endedAt;
  let first = Number.POSITIVE_INFINITY;
  for (const [name, created] of stream.created) {
    if (created.at < from) continue;
    const decidedAt = recorder.requests.get(name)?.decidedAt;
    if (decidedAt !== undefined && decidedAt < first) first = decidedAt;
  }
  return Number.isFinite(first) ? Math.max(0, first - from) : Number.NaN;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

export function table(results: readonly ScenarioResult[]): string {
  const seconds = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(1)} s` : 'n/a');
  const lines = [
    '| Scenario | Faults injected | Requests | Decided correctly | Lost | Duplicated | Contradictory | Decisions resume (p50 / max) | Time to recover (p50 / max) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  const spread = (values: readonly number[]): string =>
    `${seconds(percentile(values, 0.5))} / ${seconds(Math.max(...values.filter(Number.isFinite)))}`;
  for (const result of results) {
    const { verdict } = result;
    lines.push(
      `| ${result.scenario} | ${result.faults} | ${verdict.requests} | ${verdict.decidedCorrectly} | ${verdict.lost} | ${verdict.duplicated} | ${verdict.contradictory} | ${spread(result.resumedSeconds)} | ${spread(result.recoverySeconds)} |`,
    );
  }
  return lines.join('\n');
}

const DOCS = fileURLToPath(new URL('../docs/reliability.md', import.meta.url));
const BEGIN = '<!-- chaos-results:begin -->';
const END = '<!-- chaos-results:end -->';

async function previousResults(file: string): Promise<ScenarioResult[]> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as ScenarioResult[];
  } catch {
    return [];
  }
}

async function writeDocs(
  results: readonly ScenarioResult[],
  how: { quick: boolean; seed: number },
): Promise<void> {
  const text = await readFile(DOCS, 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/reliability.md has no ${BEGIN} … ${END} block`);
  const extra = results
    .map(
      (result) =>
        `- ${result.scenario}: ${result.injected} faults in ${result.seconds} s (load average ${result.load} at the end); ${result.restarts} controller restarts; ${result.fencedWrites} writes refused by the fence; ${result.watchesExpired} watch resumes refused with 410 Gone (listed again); ${result.verdict.webhookRedeliveries} webhook redeliveries; ${result.verdict.attributed} decisions attributed by the audit log (${result.verdict.unattributed} it does not show); ${result.createFailures} create attempts failed (retried); ${result.clicks.sent} clicks (${result.clicks.failed} failed, retried).${result.notes.map((note) => ` ${note[0]?.toUpperCase() ?? ''}${note.slice(1)}.`).join('')}`,
    )
    .join('\n');
  const block = [
    BEGIN,
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node.js ${process.version}, with \`npm run chaos --${how.quick ? ' --quick' : ''} --seed=${how.seed}\`.`,
    '',
    table(results),
    '',
    extra,
    END,
  ].join('\n');
  await writeFile(DOCS, text.slice(0, start) + block + text.slice(end + END.length));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      seed: { type: 'string', default: '7' },
      scenario: { type: 'string' },
      'write-docs': { type: 'boolean' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    say(
      `npm run chaos -- [--quick] [--seed=N] [--scenario=${SCENARIOS.map((s) => s.name).join(',')}] [--write-docs]`,
    );
    return 0;
  }
  const seed = Number(values.seed);
  const names = values.scenario?.split(',') ?? SCENARIOS.map((scenario) => scenario.name);
  const unknown = names.filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
  if (unknown.length > 0) {
    say(`unknown scenario(s): ${unknown.join(', ')}`);
    return 64;
  }
  const runDir = await mkdtemp(join(tmpdir(), 'greenlight-chaos-'));
  say(`logs in ${runDir}`);
  const cluster = await startChaosCluster((line) => {
    say(`[control plane] ${line}`);
  });
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of SCENARIOS.filter((candidate) => names.includes(candidate.name))) {
      results.push(await runScenario(cluster, scenario, { quick: values.quick, seed, runDir }));
    }
  } finally {
    await cluster.local.stop();
  }
  say(`\n${table(results)}`);
  const resultsDir = fileURLToPath(new URL('results/', import.meta.url));
  await mkdir(resultsDir, { recursive: true });
  const resultsFile = join(resultsDir, `${values.quick ? 'quick' : 'full'}.json`);
  // A run of some scenarios replaces their rows and keeps the others' from the last run.
  const kept = values.scenario === undefined ? [] : await previousResults(resultsFile);
  const all = SCENARIOS.flatMap(
    (scenario) =>
      results.find((result) => result.scenario === scenario.name) ??
      kept.find((result) => result.scenario === scenario.name) ??
      [],
  );
  await writeFile(resultsFile, `${JSON.stringify(all, null, 2)}\n`);
  if (values['write-docs'] ?? (!values.quick && values.scenario === undefined))
    await writeDocs(all, { quick: values.quick, seed });
  const failed = results.filter(
    (result) =>
      result.verdict.lost + result.verdict.duplicated + result.verdict.contradictory > 0 ||
      result.verdict.problems.length > 0 ||
      !result.settled,
  );
  if (failed.length > 0) say(`failed: ${failed.map((result) => result.scenario).join(', ')}`);
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = await main();
