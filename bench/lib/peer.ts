/**
 * The Go peer (bench/peer): a minimal controller-runtime approver, built from its pinned Go modules by
 * hack/build-tools.sh into the tool cache (seconds once its modules are downloaded; cached by the
 * digest of its source).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const BUILD_TOOLS = fileURLToPath(new URL('../../hack/build-tools.sh', import.meta.url));
export const PEER_TOOL = 'greenlight-peer';

/** The path hack/build-tools.sh reports for `tool` (its `NAME=PATH` line). */
export function toolPath(output: string, tool: string): string | undefined {
  const prefix = `${tool}=`;
  return output
    .split('\n')
    .find((line) => line.startsWith(prefix))
    ?.slice(prefix.length)
    .trim();
}

/**
 * Builds one of hack/build-tools.sh's tools when its source changed (or it was never built; otherwise
 * the cached binary is reused at once) and returns the binary's path.
 */
export async function buildTool(tool: string): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)('bash', [BUILD_TOOLS, tool], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const path = toolPath(stdout, tool);
  if (path === undefined) throw new Error(`hack/build-tools.sh reported no ${tool}:\n${stderr}`);
  return path;
}

/** Builds the peer when its source changed (or was never built) and returns the binary's path. */
export async function buildPeer(progress: (line: string) => void): Promise<string> {
  progress('building the Go peer (bench/peer) with hack/build-tools.sh');
  return buildTool(PEER_TOOL);
}

/** The version in a tool cache path: `…/kube-apiserver-v1.37.2/kube-apiserver` → `v1.37.2`. */
export function cachedVersion(path: string | undefined): string | undefined {
  return path === undefined ? undefined : /-(v\d+\.\d+\.\d+)[^/]*\/[^/]+$/.exec(path)?.[1];
}

/**
 * What the report names: the control plane's versions, the peer's Go and controller-runtime (`–` when
 * no phase runs the peer: it is then not built).
 */
export async function toolVersions(withPeer = true): Promise<{
  controlPlane: string;
  peerGo: string;
  peerControllerRuntime: string;
}> {
  const run = promisify(execFile);
  const { stdout } = await run('bash', [
    BUILD_TOOLS,
    'etcd',
    'kube-apiserver',
    ...(withPeer ? [PEER_TOOL] : []),
  ]);
  const go = await (withPeer ? run('go', ['env', 'GOVERSION']) : Promise.reject(new Error('no peer'))).then(
    ({ stdout: version }) => version.trim(),
    () => '–',
  );
  const version = (tool: string): string => cachedVersion(toolPath(stdout, tool)) ?? '?';
  return {
    controlPlane: `etcd ${version('etcd')} and kube-apiserver ${version('kube-apiserver')}`,
    peerGo: go,
    peerControllerRuntime: withPeer ? version(PEER_TOOL) : '–',
  };
}
