// What the operator watches and which apps an event concerns: the cache indexes and the event → app-key mappers. Pure.
import { GROUP, KIND, PLURAL, type StatelessAppSpec, VERSION } from "../api/index.ts";
import { formatKey, type KubeObject, objectKey } from "../runtime/object.ts";
import { ownerKeys, type ResourceType } from "../runtime/resource.ts";

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

/** APPS_BY_SECRET: the `namespace/name` of each Secret the app binds directly. */
export function secretsBoundBy(app: KubeObject): string[] {
  const namespace = app.metadata?.namespace;
  return backingServices(app).flatMap((b) =>
    b.secretRef ? [formatKey(namespace ?? "", b.secretRef.name)] : [],
  );
}

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
 * The apps a Secret event concerns: the app that owns it (a binding Secret we wrote), the apps
 * that bind it directly, and the apps binding a Provisioned Service whose status names it.
 */
export function appsForSecret(
  secret: KubeObject,
  apps: IndexedObjects,
  servicesNaming: (secretKey: string) => readonly WatchedService[],
): string[] {
  const key = objectKey(secret);
  return [
    ...ownerKeys(secret, STATELESS_APP_RESOURCE),
    ...apps.byIndex(APPS_BY_SECRET, key).map(objectKey),
    ...servicesNaming(key).flatMap((service) => appsForService(service, apps)),
  ];
}
