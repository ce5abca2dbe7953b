// The pod settings of one process type: spec.processes[].pod over spec.pod, and the default spread.
import type {
  V1Affinity,
  V1LabelSelector,
  V1PodSecurityContext,
  V1PodSpec,
  V1Toleration,
  V1TopologySpreadConstraint,
} from "@kubernetes/client-node";
import type { PodSettings, Process, StatelessApp } from "../../api/index.ts";
import { selectorFor } from "./metadata.ts";

/** The node label the default spread is across: losing one node loses no process type. */
export const DEFAULT_SPREAD_TOPOLOGY_KEY = "kubernetes.io/hostname";

/**
 * A spec value as the API server stores it (what a null left absent dropped), as its core/v1
 * type, and a copy: the rendered object never aliases the app.
 */
const asWire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** A map without the keys a null value left absent. */
export const defined = (
  m: Record<string, string | undefined> | undefined,
): Record<string, string> =>
  Object.fromEntries(
    Object.entries(m ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
  );

const mergeMaps = (
  shared: Record<string, string | undefined> | undefined,
  own: Record<string, string | undefined> | undefined,
): Record<string, string> | undefined =>
  shared === undefined && own === undefined ? undefined : { ...defined(shared), ...defined(own) };

/**
 * The process's pod settings over the app's: a field the process sets replaces the app's; maps
 * (labels, annotations, nodeSelector) and objects (securityContext, affinity) merge by key; lists replace.
 */
export function podSettingsFor(app: StatelessApp, proc: Process): PodSettings {
  const shared = app.spec.pod ?? {};
  const own = proc.pod ?? {};
  const labels = mergeMaps(shared.metadata?.labels, own.metadata?.labels);
  const annotations = mergeMaps(shared.metadata?.annotations, own.metadata?.annotations);
  const nodeSelector = mergeMaps(shared.nodeSelector, own.nodeSelector);
  const securityContext =
    shared.securityContext === undefined && own.securityContext === undefined
      ? undefined
      : { ...shared.securityContext, ...own.securityContext };
  const affinity =
    shared.affinity === undefined && own.affinity === undefined
      ? undefined
      : { ...shared.affinity, ...own.affinity };
  const metadata =
    labels === undefined && annotations === undefined
      ? undefined
      : {
          ...(labels === undefined ? {} : { labels }),
          ...(annotations === undefined ? {} : { annotations }),
        };
  const merged: PodSettings = {
    ...shared,
    ...own,
    ...(metadata === undefined ? {} : { metadata }),
    ...(nodeSelector === undefined ? {} : { nodeSelector }),
    ...(securityContext === undefined ? {} : { securityContext }),
    ...(affinity === undefined ? {} : { affinity }),
  };
  return merged;
}

/** Whether the process type may run more than one pod (a fixed count above one, or an autoscaler that may add one). */
const mayHaveManyPods = (proc: Process): boolean =>
  proc.autoscale !== undefined ? proc.autoscale.maxReplicas > 1 : (proc.replicas ?? 1) > 1;

function spreadConstraints(
  app: StatelessApp,
  proc: Process,
  settings: PodSettings,
): V1TopologySpreadConstraint[] | undefined {
  const ownPods: V1LabelSelector = { matchLabels: selectorFor(app, proc.name) };
  if (settings.topologySpreadConstraints !== undefined)
    return settings.topologySpreadConstraints.map((c) => ({
      ...asWire(c as V1TopologySpreadConstraint),
      labelSelector:
        c.labelSelector === undefined ? ownPods : asWire(c.labelSelector as V1LabelSelector),
    }));
  if (!mayHaveManyPods(proc)) return undefined;
  return [
    {
      maxSkew: 1,
      topologyKey: DEFAULT_SPREAD_TOPOLOGY_KEY,
      whenUnsatisfiable: "ScheduleAnyway",
      labelSelector: ownPods,
    },
  ];
}

/** The pod spec fields the settings set (everything but the containers and volumes). */
export function podSpecFields(
  app: StatelessApp,
  proc: Process,
  settings: PodSettings,
): Partial<V1PodSpec> {
  const { runAsNonRoot: _alwaysTrue, ...users } = settings.securityContext ?? {};
  const securityContext: V1PodSecurityContext = {
    runAsNonRoot: true,
    ...users,
    seccompProfile: { type: "RuntimeDefault" },
  };
  const spread = spreadConstraints(app, proc, settings);
  const nodeSelector =
    settings.nodeSelector === undefined ? undefined : defined(settings.nodeSelector);
  return {
    ...(settings.serviceAccountName === undefined
      ? {}
      : { serviceAccountName: settings.serviceAccountName }),
    automountServiceAccountToken: settings.automountServiceAccountToken === true,
    ...(settings.imagePullSecrets === undefined
      ? {}
      : { imagePullSecrets: settings.imagePullSecrets.map((s) => ({ name: s.name })) }),
    ...(nodeSelector === undefined ? {} : { nodeSelector }),
    ...(settings.tolerations === undefined
      ? {}
      : { tolerations: asWire(settings.tolerations as V1Toleration[]) }),
    ...(settings.affinity === undefined
      ? {}
      : { affinity: asWire(settings.affinity as V1Affinity) }),
    ...(spread === undefined || spread.length === 0 ? {} : { topologySpreadConstraints: spread }),
    ...(settings.priorityClassName === undefined
      ? {}
      : { priorityClassName: settings.priorityClassName }),
    ...(settings.terminationGracePeriodSeconds === undefined
      ? {}
      : { terminationGracePeriodSeconds: settings.terminationGracePeriodSeconds }),
    securityContext,
  };
}
