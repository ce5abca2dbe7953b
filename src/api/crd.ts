// The StatelessApp CustomResourceDefinition, generated from the zod schema.
import { statelessApp } from "./app.ts";
import {
  CATEGORIES,
  GROUP,
  KIND,
  LIST_KIND,
  PLURAL,
  SHORT_NAMES,
  SINGULAR,
  VERSION,
} from "./group.ts";
import { type JsonSchema, toStructuralSchema } from "./openapi.ts";
import { statelessAppSpec } from "./spec.ts";
import { statelessAppStatus } from "./status.ts";

export const CRD_NAME = `${PLURAL}.${GROUP}`;

const printerColumns = [
  {
    name: "Ready",
    type: "string",
    jsonPath: '.status.conditions[?(@.type=="Ready")].status',
    description: "Whether every process type is available at its desired count.",
  },
  {
    name: "Processes",
    type: "string",
    jsonPath: ".status.summary",
    description: "Ready processes per type.",
  },
  {
    name: "Image",
    type: "string",
    jsonPath: ".spec.image",
    description: "Image every process runs.",
  },
  {
    name: "Reason",
    type: "string",
    jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
    priority: 1,
    description: "Why the app is or is not Ready.",
  },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
];

/** The CRD object, ready to serialize or apply. */
export function renderCrd(): Record<string, unknown> {
  const rootValidations = statelessApp.meta()?.["x-kubernetes-validations"];
  const openAPIV3Schema: JsonSchema = {
    type: "object",
    description:
      "StatelessApp runs an app as stateless, share-nothing processes (Twelve-Factor VI): one Deployment per process type, read-only root filesystems, bounded scratch space, no sticky sessions, state only in bound backing services.",
    properties: {
      apiVersion: {
        type: "string",
        description: "APIVersion of this object: twelvefactor.dev/v1alpha1.",
      },
      kind: { type: "string", description: "Kind of this object: StatelessApp." },
      metadata: { type: "object" },
      spec: toStructuralSchema(statelessAppSpec),
      status: toStructuralSchema(statelessAppStatus),
    },
    required: ["spec"],
    "x-kubernetes-validations": rootValidations,
  };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: CRD_NAME,
      labels: {
        "app.kubernetes.io/name": "stateless-operator",
        "app.kubernetes.io/part-of": "stateless-operator",
      },
    },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: LIST_KIND,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: [...SHORT_NAMES],
        categories: [...CATEGORIES],
      },
      scope: "Namespaced",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema },
          subresources: { status: {} },
          additionalPrinterColumns: printerColumns,
        },
      ],
    },
  };
}
