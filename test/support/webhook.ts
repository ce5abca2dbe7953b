// An admission webhook served by the test on loopback: the API server calls it, it answers what the test says.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCertificateAuthority, issueCertificate } from "../../tools/cluster/certs.ts";

/** One AdmissionReview request as the webhook saw it. */
export interface AdmissionSeen {
  readonly operation: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** What to answer: allow, or deny with an HTTP code and a message. */
export type AdmissionAnswer =
  | { readonly allowed: true }
  | { readonly code: number; readonly message: string };

export interface TestWebhook {
  /** `https://127.0.0.1:<port>/` */
  readonly url: string;
  /** The CA that signed its serving certificate (for the webhook configuration's caBundle). */
  readonly caBundle: string;
  readonly seen: AdmissionSeen[];
  answer: (request: AdmissionSeen) => AdmissionAnswer;
  close(): Promise<void>;
}

/** Starts an HTTPS admission webhook on 127.0.0.1 with a certificate from a CA of its own. */
export async function startWebhook(answer: TestWebhook["answer"]): Promise<TestWebhook> {
  const dir = await mkdtemp(join(tmpdir(), "webhook-"));
  const ca = await createCertificateAuthority(dir);
  const serving = await issueCertificate(ca, dir, {
    name: "webhook",
    commonName: "webhook",
    hosts: ["127.0.0.1"],
    usage: "server",
  });
  const seen: AdmissionSeen[] = [];
  const hook: TestWebhook = {
    url: "",
    caBundle: (await readFile(ca.certPath)).toString("base64"),
    seen,
    answer,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
  const server: Server = createServer(
    { cert: await readFile(serving.certPath), key: await readFile(serving.keyPath) },
    (req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => {
        body += chunk;
      });
      req.on("end", () => {
        const review = JSON.parse(body) as {
          request: {
            uid: string;
            operation: string;
            kind: { kind: string };
            namespace?: string;
            name?: string;
            object?: { metadata?: { name?: string } };
          };
        };
        const r = review.request;
        const request: AdmissionSeen = {
          operation: r.operation,
          kind: r.kind.kind,
          namespace: r.namespace ?? "",
          name: r.name || r.object?.metadata?.name || "",
        };
        seen.push(request);
        const decided = hook.answer(request);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            apiVersion: "admission.k8s.io/v1",
            kind: "AdmissionReview",
            response:
              "allowed" in decided
                ? { uid: r.uid, allowed: true }
                : {
                    uid: r.uid,
                    allowed: false,
                    status: { code: decided.code, message: decided.message },
                  },
          }),
        );
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(hook, { url: `https://127.0.0.1:${port}/` });
}

/** Where ValidatingWebhookConfigurations are created. */
export const VALIDATING_WEBHOOKS_PATH =
  "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations";

/**
 * A ValidatingWebhookConfiguration sending every Service create in the namespaces `selector`
 * matches to `webhook` (failurePolicy Fail): only those namespaces, as other tests share the
 * API server.
 */
export function serviceCreateWebhook(
  name: string,
  webhook: Pick<TestWebhook, "url" | "caBundle">,
  selector: Record<string, string>,
): Record<string, unknown> {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name },
    webhooks: [
      {
        name,
        clientConfig: { url: webhook.url, caBundle: webhook.caBundle },
        rules: [
          { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["services"] },
        ],
        namespaceSelector: { matchLabels: selector },
        failurePolicy: "Fail",
        sideEffects: "None",
        admissionReviewVersions: ["v1"],
        timeoutSeconds: 5,
      },
    ],
  };
}
