// The processes rule set, in id order: what audit runs and the admission policies enforce.
import { ephemeralVolumeClaim } from "./ephemeral-volume-claim.ts";
import { gatewaySessionPersistence } from "./gateway-session-persistence.ts";
import { hostNamespace } from "./host-namespaces.ts";
import { hostPathVolume } from "./host-path-volume.ts";
import { ingressStickyAnnotations } from "./ingress-sticky-annotations.ts";
import { networkVolume } from "./network-volume.ts";
import { persistentVolumeClaim } from "./persistent-volume-claim.ts";
import { proxySessionAffinity } from "./proxy-session-affinity.ts";
import type { Rule } from "./rule.ts";
import { serviceStickyAnnotations } from "./service-sticky-annotations.ts";
import { serviceSessionAffinity } from "./session-affinity.ts";
import { statefulSet } from "./stateful-set.ts";
import { unboundedEmptyDir } from "./unbounded-empty-dir.ts";
import { unmanagedPod } from "./unmanaged-pod.ts";
import { writableRootFilesystem } from "./writable-root-filesystem.ts";

export const rules: readonly Rule[] = [
  serviceSessionAffinity,
  ingressStickyAnnotations,
  serviceStickyAnnotations,
  gatewaySessionPersistence,
  proxySessionAffinity,
  hostPathVolume,
  persistentVolumeClaim,
  ephemeralVolumeClaim,
  networkVolume,
  unboundedEmptyDir,
  writableRootFilesystem,
  hostNamespace,
  statefulSet,
  unmanagedPod,
];
