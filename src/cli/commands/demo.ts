import { parseArgs } from 'node:util';
import { startLocalCluster } from '../../local-cluster/control-plane.ts';

const help = `Usage: greenlight demo [--dir DIR]

Starts a local control plane (etcd and kube-apiserver, built from their Go modules on first use and
cached), writes kubeconfigs for an admin, a CI service account and three people, prints how to use
them, and keeps running until interrupted (Ctrl-C).

Flags:
  --dir DIR   keep the control plane's state, logs and kubeconfigs in DIR (default: a temporary folder)
  -h, --help  show this help`;

export async function runDemo(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
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
  say(`
The control plane is running. In another shell:

  export KUBECONFIG=${cluster.kubeconfig}
  ${cluster.kubectl} get namespaces
  ${cluster.kubectl} --context ci auth whoami        # the CI pipeline: ${cluster.usernames.ci}
  ${cluster.kubectl} --context alice auth can-i create pods   # a person in group "approvers"

Per-identity kubeconfigs: ${Object.values(cluster.kubeconfigs).join(' ')}
Logs: ${cluster.dir}/kube-apiserver.log, ${cluster.dir}/etcd.log

Press Ctrl-C to stop.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  say('Stopping the control plane');
  await cluster.stop();
  return 0;
}
