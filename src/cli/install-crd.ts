// Installs the StatelessApp CRD for a local run (`npm start`) and for the test tiers.
import { renderCrd } from "../api/index.ts";
import {
  type HttpTransport,
  httpClient,
  type KubeObject,
  type ResourceType,
} from "../runtime/index.ts";

const CRD_RESOURCE: ResourceType = {
  group: "apiextensions.k8s.io",
  version: "v1",
  kind: "CustomResourceDefinition",
  plural: "customresourcedefinitions",
  namespaced: false,
};

type Crd = KubeObject & {
  status?: { conditions?: { type: string; status: string; message?: string }[] };
};

/**
 * Server-side applies the StatelessApp CRD (like kubebuilder's `make install`), then waits until
 * the API server serves it (Established): a `kubectl apply` of an app before that finds no such
 * kind. Throws when it is not Established within `timeoutMs`, with its last condition's message.
 */
export async function installCrd(
  transport: HttpTransport,
  fieldManager: string,
  timeoutMs = 30_000,
): Promise<void> {
  const client = httpClient(transport);
  const crd = renderCrd() as unknown as KubeObject;
  await client.apply(CRD_RESOURCE, crd, { fieldManager, force: true });
  const ref = { name: crd.metadata?.name ?? "" };
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const got = await client.get<Crd>(CRD_RESOURCE, ref);
    const established = got?.status?.conditions?.find((c) => c.type === "Established");
    if (established?.status === "True") return;
    if (Date.now() >= deadline)
      throw new Error(
        `the StatelessApp CRD is not Established after ${timeoutMs / 1000} s: ${established?.message ?? "no condition yet"}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}
