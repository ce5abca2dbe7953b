// What the operator watches and which apps an event concerns: the cache indexes and the event → app-key mappers. Pure.
import { GROUP, KIND, PLURAL, type StatelessAppSpec, VERSION } from "../api/index.ts";
import { formatKey, type KubeObject, objectKey } from "../runtime/object.ts";
import { ownerKeys, type ResourceType } from "../runtime/resource.ts";
import { normalizedSecretName } from "./bindings/index.ts";
import { configSourceKeys } from "./config-sources.ts";
import { childName, LABEL_INSTANCE, LABEL_MANAGED_BY, MANAGED_BY } from "./render/index.ts";

export const STATELESS_APP_RESOURCE: ResourceType = {
  group: GROUP,
  version: VERSION,
  kind: KIND,
  plural: PLURAL,
  namespaced: true,
};

/** Index names on the apps cache: which apps a Secret or a Provisioned Service concerns. */
export const APPS_BY_SECRET = "secret";
export const APPS_BY_SERVICE = "service";
/** Index name on the apps cache: which apps a ConfigMap concerns. */
export const APPS_BY_CONFIG_MAP = "config-map";
/** Index name on the apps cache: every name the app's children have (`namespace/name`). */
export const APPS_BY_CHILD_NAME = "child-name";
/** Index name on the apps cache: the Provisioned Service kinds an app binds (`apiVersion|kind`). */
export const APPS_BY_SERVICE_KIND = "service-kind";
/** Index name on each Provisioned Service cache: the Secret its `status.binding.name` names. */
export const SERVICES_BY_SECRET = "binding-secret";

/** The read side of an indexed cache (a reflector's store). */
export interface IndexedObjects {
  byIndex(index: string, value: string): KubeObject[];
}

/** A Provisioned Service as the watches hold it: its kind, and the object. */
export interface WatchedService {
  readonly apiVersion: string;
  readonly kind: string;
  readonly object: KubeObject;
}

/** A kind of Provisioned Service an app binds. */
export interface ServiceKind {
  readonly apiVersion: string;
  readonly kind: string;
}

type BackingServices = NonNullable<StatelessAppSpec["backingServices"]>;

/** The app's backing services, read defensively: the cache holds apps whose spec may be invalid. */
function backingServices(app: KubeObject): BackingServices {
  const spec = (app as { spec?: { backingServices?: unknown } }).spec;
  if (!Array.isArray(spec?.backingServices)) return [];
  return (spec.backingServices as unknown[]).filter(
    (b): b is BackingServices[number] => typeof b === "object" && b !== null,
  );
}

/** The key of one Provisioned Service: `apiVersion|kind|namespace/name`. */
export const serviceKey = (
  namespace: string | undefined,
  apiVersion: string,
  kind: string,
  name: string,
): string => `${apiVersion}|${kind}|${formatKey(namespace ?? "", name)}`;

/**
 * APPS_BY_SECRET: the `namespace/name` of each Secret the app binds directly, and of each its
 * envFrom and config read.
 */
export function secretsBoundBy(app: KubeObject): string[] {
  const namespace = app.metadata?.namespace;
  const bound = backingServices(app).flatMap((b) =>
    b.secretRef ? [formatKey(namespace ?? "", b.secretRef.name)] : [],
  );
  return [...new Set([...bound, ...configSourceKeys("Secret")(app)])];
}

/** APPS_BY_CONFIG_MAP: the `namespace/name` of each ConfigMap the app's envFrom and config read. */
export const configMapsReadBy = configSourceKeys("ConfigMap");

/** The apps a ConfigMap event concerns: those whose envFrom or config read it. */
export const appsForConfigMap = (configMap: KubeObject, apps: IndexedObjects): string[] =>
  apps.byIndex(APPS_BY_CONFIG_MAP, objectKey(configMap)).map(objectKey);

/** APPS_BY_SERVICE: the serviceKey of each Provisioned Service the app binds. */
export function servicesBoundBy(app: KubeObject): string[] {
  const namespace = app.metadata?.namespace;
  return backingServices(app).flatMap((b) =>
    b.service ? [serviceKey(namespace, b.service.apiVersion, b.service.kind, b.service.name)] : [],
  );
}

/** The Provisioned Service kinds an app binds, whose watches must run. */
export function serviceKindsBoundBy(app: KubeObject): ServiceKind[] {
  return backingServices(app).flatMap((b) =>
    b.service ? [{ apiVersion: b.service.apiVersion, kind: b.service.kind }] : [],
  );
}

/** The key of a Provisioned Service kind: `apiVersion|kind`. */
export const serviceKindKey = (k: ServiceKind): string => `${k.apiVersion}|${k.kind}`;

/** APPS_BY_SERVICE_KIND: the serviceKindKey of each kind the app binds. */
export const serviceKindKeysBoundBy = (app: KubeObject): string[] =>
  serviceKindsBoundBy(app).map(serviceKindKey);

/**
 * APPS_BY_CHILD_NAME: `<app>-<process>` (Deployment, Service, PodDisruptionBudget, autoscaler)
 * for each process type and `<app>-binding-<binding>` for each binding, in the app's namespace.
 * Two apps may render the same name (`a-b` + `c` and `a` + `b-c`); the one that does not hold
 * it waits, and learns from this index when the holder lets it go.
 */
export function childNamesOf(app: KubeObject): string[] {
  const name = app.metadata?.name ?? "";
  const namespace = app.metadata?.namespace ?? "";
  const spec = (app as { spec?: { processes?: unknown } }).spec;
  const processes = Array.isArray(spec?.processes) ? (spec.processes as unknown[]) : [];
  const processNames = processes.flatMap((p) => {
    const n = (p as { name?: unknown } | null)?.name;
    return typeof n === "string" ? [childName({ metadata: { name } }, n)] : [];
  });
  const bindingNames = backingServices(app).flatMap((b) =>
    typeof b.name === "string" ? [normalizedSecretName(name, b.name)] : [],
  );
  return [...new Set([...processNames, ...bindingNames])].map((n) => formatKey(namespace, n));
}

/** The apps that render a child's name: when another's object of that name changes or goes, they look again. */
export const appsNaming = (child: KubeObject, apps: IndexedObjects): string[] =>
  apps.byIndex(APPS_BY_CHILD_NAME, objectKey(child)).map(objectKey);

/** The apps a child event concerns: its controller, and the apps that render its name. */
export const appsForChild = (child: KubeObject, apps: IndexedObjects): string[] => [
  ...new Set([...ownerKeys(child, STATELESS_APP_RESOURCE), ...appsNaming(child, apps)]),
];

/**
 * The pod cache's index (PODS_BY_APP), and the app a pod event concerns: the one its `app.kubernetes.io/instance` label
 * names in its namespace. The label is only a hint (anyone may set it on a pod of their own, in
 * their own namespace): reconcile reads only the pods its Deployments' ReplicaSets control.
 */
export function appOfPod(pod: KubeObject): string[] {
  const instance = pod.metadata?.labels?.[LABEL_INSTANCE];
  return instance === undefined ? [] : [formatKey(pod.metadata?.namespace ?? "", instance)];
}

/** SERVICES_BY_SECRET: the `namespace/name` of the Secret a Provisioned Service's status names. */
export function secretNamedBy(service: KubeObject): string[] {
  const name = (service as { status?: { binding?: { name?: unknown } } }).status?.binding?.name;
  return typeof name === "string" && name !== ""
    ? [formatKey(service.metadata?.namespace ?? "", name)]
    : [];
}

/** The owner index of the child caches: the uid of the object's controller. */
export function controllerUids(obj: KubeObject): string[] {
  return (obj.metadata?.ownerReferences ?? [])
    .filter((r) => r.controller === true)
    .map((r) => r.uid);
}

/** The apps binding a Provisioned Service that changed. */
export function appsForService(service: WatchedService, apps: IndexedObjects): string[] {
  const { object } = service;
  const key = serviceKey(
    object.metadata?.namespace,
    service.apiVersion,
    service.kind,
    object.metadata?.name ?? "",
  );
  return apps.byIndex(APPS_BY_SERVICE, key).map(objectKey);
}

/**
 * The apps a Secret event concerns: the app that owns it (a binding Secret we wrote) and the
 * apps whose binding Secret has its name, the apps that bind it directly, and the apps binding
 * a Provisioned Service whose status names it.
 */
export function appsForSecret(
  secret: KubeObject,
  apps: IndexedObjects,
  servicesNaming: (secretKey: string) => readonly WatchedService[],
): string[] {
  const key = objectKey(secret);
  return [
    ...new Set([
      ...appsForChild(secret, apps),
      ...apps.byIndex(APPS_BY_SECRET, key).map(objectKey),
      ...servicesNaming(key).flatMap((service) => appsForService(service, apps)),
    ]),
  ];
}

/**
 * How a cache that holds a whole kind (WHOLE_CACHE_KINDS) keeps each object: ours (the
 * operator's label) and any a StatelessApp controls in full, as reconcile reads them; another's
 * as a stub of its identity and owners, which is all that refusing its name needs (and all a
 * cluster's other Deployments and Services cost in memory).
 */
export function wholeCacheForm(obj: KubeObject): KubeObject {
  const metadata = obj.metadata ?? {};
  if (metadata.labels?.[LABEL_MANAGED_BY] === MANAGED_BY) return obj;
  const controlledByApp = (metadata.ownerReferences ?? []).some(
    (r) => r.controller === true && r.kind === KIND && r.apiVersion.startsWith(`${GROUP}/`),
  );
  if (controlledByApp) return obj;
  const { name, namespace, uid, resourceVersion, ownerReferences, deletionTimestamp } = metadata;
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: {
      name,
      namespace,
      uid,
      resourceVersion,
      ...(ownerReferences === undefined ? {} : { ownerReferences }),
      ...(deletionTimestamp === undefined ? {} : { deletionTimestamp }),
    },
  };
}
