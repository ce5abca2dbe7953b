// A hostile tenant for integration and e2e tests: a user who may manage StatelessApps in one namespace and nothing else, reached by impersonation.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { renderUserRoles } from "../../scripts/install/rbac.ts";
import { type HttpTransport, type KubeObject, requestJson } from "../../src/runtime/index.ts";
import { eventually, uniqueName } from "./cluster.ts";

/** The shipped role a namespace's app editors get (aggregated into `edit`): StatelessApps only. */
export const EDIT_ROLE = "stateless-operator-edit";

export interface Tenant {
  /** The impersonated user name. */
  readonly user: string;
  readonly namespace: string;
  /** A copy of the admin kubeconfig that impersonates the user (`as`), as kubectl's `--as` does. */
  readonly kubeconfig: string;
}

/**
 * Binds the shipped `stateless-operator-edit` ClusterRole to a new user in `namespace` only (a
 * RoleBinding, no other role: the user may not read Secrets, create pods or touch Services),
 * and returns a kubeconfig that acts as that user. The ClusterRole is applied as the install
 * ships it; nothing grants the user more.
 */
export async function createTenant(
  admin: { readonly kubeconfig: string; readonly transport: HttpTransport },
  namespace: string,
): Promise<Tenant> {
  const user = uniqueName("tenant");
  const edit = renderUserRoles().find((r) => (r.metadata as { name: string }).name === EDIT_ROLE);
  if (edit === undefined) throw new Error(`the install ships no ${EDIT_ROLE} role`);
  await applyAsAdmin(
    admin.transport,
    edit as KubeObject,
    "/apis/rbac.authorization.k8s.io/v1/clusterroles",
  );
  await applyAsAdmin(
    admin.transport,
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: user, namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: EDIT_ROLE },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: user }],
    },
    `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`,
  );
  const kubeconfig = impersonatingKubeconfig(admin.kubeconfig, user);
  // RBAC reaches the authorizer through an informer: wait until the binding is in effect.
  await eventually(() => allowed(admin.transport, user, namespace), {
    what: `${user} to be allowed to create StatelessApps in ${namespace}`,
  });
  return { user, namespace, kubeconfig };
}

/** A copy of `kubeconfig` whose users act as `user` (kubectl's `--as`; the admin may impersonate). */
export function impersonatingKubeconfig(kubeconfig: string, user: string): string {
  const config = parse(readFileSync(kubeconfig, "utf8")) as {
    users: { name: string; user: Record<string, unknown> }[];
  };
  for (const u of config.users) u.user.as = user;
  const path = join(mkdtempSync(join(tmpdir(), "impersonating-")), "kubeconfig");
  writeFileSync(path, stringify(config), { mode: 0o600 });
  return path;
}

/** Whether `user` may `verb` `resource` (of `group`) in `namespace`, as the API server's authorizer says. */
export async function allowed(
  transport: HttpTransport,
  user: string,
  namespace: string,
  verb = "create",
  resource = "statelessapps",
  group = "twelvefactor.dev",
): Promise<boolean> {
  const review = await requestJson<{ status?: { allowed?: boolean } }>(transport, {
    method: "POST",
    path: "/apis/authorization.k8s.io/v1/subjectaccessreviews",
    contentType: "application/json",
    body: JSON.stringify({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: {
        user,
        groups: ["system:authenticated"],
        resourceAttributes: { namespace, verb, group, resource },
      },
    }),
  });
  return review.status?.allowed === true;
}

/** Server-side applies `object` into `collection` (its REST path) as the admin. */
export async function applyAsAdmin(
  transport: HttpTransport,
  object: KubeObject,
  collection: string,
): Promise<void> {
  await requestJson(transport, {
    method: "PATCH",
    path: `${collection}/${object.metadata?.name}`,
    query: { fieldManager: "test-tenant", force: true },
    contentType: "application/apply-patch+yaml",
    body: JSON.stringify(object),
  });
}
