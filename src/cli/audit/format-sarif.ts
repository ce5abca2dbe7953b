// `-o sarif`: SARIF 2.1.0, so code-scanning UIs show findings on the manifests' lines.
import { isAbsolute, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { isViolation, type Rule, rules, type Severity } from "../../app/rules/index.ts";
import { type PlacedFinding, pathText, type Report } from "./report.ts";
import { describeRef } from "./subject.ts";

const SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";
const SRCROOT = "%SRCROOT%";

const levels: Record<Severity, "error" | "warning" | "note"> = {
  error: "error",
  warning: "warning",
  info: "note",
};

/** `Service session affinity` → `ServiceSessionAffinity`: SARIF's rule name is an identifier. */
const ruleName = (rule: Rule) =>
  rule.title
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== "")
    .map((w) => w[0]?.toUpperCase() + w.slice(1))
    .join("");

function descriptor(rule: Rule) {
  return {
    id: rule.id,
    name: ruleName(rule),
    shortDescription: { text: rule.title },
    fullDescription: { text: rule.why },
    help: { text: rule.fix, markdown: `**Why:** ${rule.why}\n\n**Fix:** ${rule.fix}` },
    defaultConfiguration: { level: levels[rule.severity] },
    properties: { tags: ["twelve-factor", "processes"] },
  };
}

export interface SarifOptions {
  /** Directory that relative artifact URIs are relative to (the repository root in CI). */
  readonly cwd: string;
  readonly toolVersion?: string;
}

/** A file path as an artifact location: relative to `cwd` when inside it. */
function artifactLocation(file: string, cwd: string) {
  const rel = relative(cwd, file);
  if (rel !== "" && !rel.startsWith("..") && !isAbsolute(rel))
    return { uri: rel.split(sep).join("/"), uriBaseId: SRCROOT };
  return { uri: pathToFileURL(file).href };
}

function physicalLocation(f: PlacedFinding, cwd: string) {
  const file = f.origin.file;
  // Standard input has no file; Helm output at least names the template (lines differ there).
  if (file === undefined || file === "-") {
    return f.origin.helmSource === undefined
      ? undefined
      : { artifactLocation: { uri: f.origin.helmSource, uriBaseId: SRCROOT } };
  }
  return {
    artifactLocation: artifactLocation(file, cwd),
    ...(f.position === undefined
      ? {}
      : { region: { startLine: f.position.line, startColumn: f.position.column } }),
  };
}

export function formatSarif(report: Report, options: SarifOptions): string {
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const results = report.findings.map((f) => {
    const physical = physicalLocation(f, options.cwd);
    const object = describeRef(f.object);
    return {
      ruleId: f.ruleId,
      ruleIndex: index.get(f.ruleId) ?? -1,
      level: levels[f.severity],
      message: { text: `${f.message} (${object}, ${pathText(f)})` },
      locations: [
        {
          ...(physical === undefined ? {} : { physicalLocation: physical }),
          logicalLocations: [{ fullyQualifiedName: `${object} ${pathText(f)}`, kind: "member" }],
        },
      ],
      // An honoured exemption is an in-source suppression: code scanning shows it as dismissed.
      ...(f.exemption !== undefined && !isViolation(f)
        ? {
            suppressions: [
              {
                kind: "inSource",
                status: "accepted",
                justification: `exempted by the ${f.exemption.by}: ${f.exemption.reason}`,
              },
            ],
          }
        : {}),
    };
  });
  const log = {
    $schema: SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "stateless-operator audit",
            informationUri: "https://12factor.net/processes",
            ...(options.toolVersion === undefined ? {} : { version: options.toolVersion }),
            rules: rules.map(descriptor),
          },
        },
        originalUriBaseIds: {
          [SRCROOT]: { uri: `${pathToFileURL(options.cwd).href.replace(/\/?$/, "/")}` },
        },
        invocations: [
          {
            executionSuccessful: report.errors.length === 0,
            toolExecutionNotifications: report.errors.map((e) => ({
              level: "error",
              message: { text: e.message },
              locations:
                e.file === "-"
                  ? []
                  : [
                      {
                        physicalLocation: {
                          artifactLocation: artifactLocation(e.file, options.cwd),
                          ...(e.position === undefined
                            ? {}
                            : {
                                region: {
                                  startLine: e.position.line,
                                  startColumn: e.position.column,
                                },
                              }),
                        },
                      },
                    ],
            })),
          },
        ],
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
