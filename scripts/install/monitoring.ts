// Monitoring the operator: the alerts of docs/operations.md as Prometheus rules, a ServiceMonitor, and a Grafana dashboard.
import { labels, NAME } from "./names.ts";
import { METRICS_SERVICE } from "./operator.ts";

type Json = Record<string, unknown>;

/** The job prometheus-operator gives the ServiceMonitor's targets: the Service's name. */
export const JOB = METRICS_SERVICE;
const job = `job="${JOB}"`;

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly severity: "critical" | "warning";
  readonly summary: string;
  /** May name `{{ $labels.<label> }}` of the expression's result. */
  readonly description: string;
}

/** Each alert docs/operations.md recommends, and one for no replica being scraped at all. */
export const alertRules: readonly AlertRule[] = [
  {
    alert: "StatelessOperatorDown",
    expr: `absent(up{${job}} == 1)`,
    for: "5m",
    severity: "critical",
    summary: "No stateless-operator replica is scraped",
    description: `Prometheus has scraped no replica of job ${JOB} for 5 minutes: no StatelessApp is reconciled.`,
  },
  {
    alert: "StatelessOperatorNoLeader",
    expr: `sum by (namespace) (leader_election_master_status{${job}}) != 1`,
    for: "5m",
    severity: "critical",
    summary: "stateless-operator has no leader, or more than one",
    description:
      "Not exactly one replica in {{ $labels.namespace }} holds the Lease: nothing is reconciled (or two replicas write).",
  },
  {
    alert: "StatelessOperatorReconcileErrors",
    expr: `sum by (namespace, controller) (rate(controller_runtime_reconcile_errors_total{${job}}[5m])) > 0`,
    for: "15m",
    severity: "warning",
    summary: "StatelessApp reconciles keep failing",
    description:
      "Reconciles of {{ $labels.controller }} in {{ $labels.namespace }} have failed for 15 minutes; the operator's logs and the apps' Stalled conditions say why.",
  },
  {
    alert: "StatelessOperatorRequestsRefused",
    expr: `sum by (namespace) (increase(rest_client_requests_total{${job},code=~"401|403"}[10m])) > 0`,
    for: "5m",
    severity: "warning",
    summary: "The API server refuses stateless-operator's requests",
    description:
      "The operator in {{ $labels.namespace }} gets 401/403 answers: a Role it needs changed, or a Provisioned Service kind nobody granted it (docs/operations.md#permissions).",
  },
  {
    alert: "StatelessOperatorCacheNotSynced",
    expr: `stateless_operator_informer_synced{${job}} == 0`,
    for: "10m",
    severity: "warning",
    summary: "A stateless-operator cache holds no complete list",
    description:
      "The {{ $labels.resource }} cache of {{ $labels.pod }} has not listed completely for 10 minutes: the replica is not ready and reconciles on partial data.",
  },
  {
    alert: "StatelessOperatorWatchSilent",
    expr: `stateless_operator_informer_last_event_age_seconds{${job}} > 600`,
    for: "5m",
    severity: "warning",
    summary: "A stateless-operator watch delivers nothing",
    description:
      "The {{ $labels.resource }} watch of {{ $labels.pod }} has delivered no event or bookmark for 15 minutes, though stalled watches restart after WATCH_INACTIVITY_TIMEOUT.",
  },
  {
    alert: "StatelessOperatorChildrenKeepChanging",
    expr: `sum by (namespace) (increase(stateless_operator_apply_total{${job},outcome="written",kind!="StatelessApp"}[30m])) > 0 unless on (namespace) sum by (namespace) (increase(stateless_operator_informer_events_total{${job},resource="statelessapps"}[30m])) > 0`,
    for: "1h",
    severity: "warning",
    summary: "Something keeps changing the operator's children",
    description:
      "For an hour the operator in {{ $labels.namespace }} has re-applied Deployments, Services or Secrets while no StatelessApp changed: another controller or a person keeps changing them (each correction is a DriftCorrected Event).",
  },
];

/** The rules as a Prometheus rule file's groups (also the PrometheusRule's spec). */
export function ruleGroups(): Json[] {
  return [
    {
      name: NAME,
      rules: alertRules.map((r) => ({
        alert: r.alert,
        expr: r.expr,
        for: r.for,
        labels: { severity: r.severity },
        annotations: { summary: r.summary, description: r.description },
      })),
    },
  ];
}

export function renderPrometheusRule(namespace: string): Json {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: NAME, namespace, labels: labels("metrics") },
    spec: { groups: ruleGroups() },
  };
}

/**
 * Scrapes every replica's HTTPS /metrics with Prometheus' own ServiceAccount token, which the
 * operator reviews; bind `stateless-operator-metrics-reader` to that ServiceAccount. The
 * certificate is the operator's self-signed one unless METRICS_CERT_DIR gives another, hence no
 * verification by default (set `tlsConfig` to a CA when cert-manager issues the certificate).
 */
export function renderServiceMonitor(
  namespace: string,
  tlsConfig: unknown = { insecureSkipVerify: true },
): Json {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: { name: NAME, namespace, labels: labels("metrics") },
    spec: {
      selector: {
        matchLabels: {
          "app.kubernetes.io/name": NAME,
          "app.kubernetes.io/component": "metrics",
        },
      },
      namespaceSelector: { matchNames: [namespace] },
      endpoints: [
        {
          port: "https",
          scheme: "https",
          path: "/metrics",
          bearerTokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token",
          tlsConfig,
        },
      ],
    },
  };
}

// --- The Grafana dashboard ---------------------------------------------------------------------

interface Panel {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly targets: readonly { readonly expr: string; readonly legend: string }[];
  readonly kind?: "timeseries" | "stat";
}

const sel = 'job="$job", namespace="$namespace"';

/** Every panel's query, in the order the dashboard shows them (two per row). */
export const dashboardPanels: readonly Panel[] = [
  {
    title: "Leader",
    description: "Replicas holding the Lease: exactly 1 is healthy.",
    unit: "none",
    kind: "stat",
    targets: [{ expr: `sum(leader_election_master_status{${sel}})`, legend: "leaders" }],
  },
  {
    title: "Version",
    description: "stateless_operator_build_info of each replica.",
    unit: "none",
    kind: "stat",
    targets: [
      {
        expr: `count by (version, commit) (stateless_operator_build_info{${sel}})`,
        legend: "{{version}} {{commit}}",
      },
    ],
  },
  {
    title: "Reconciles",
    description: "Reconciles per second by result.",
    unit: "ops",
    targets: [
      {
        expr: `sum by (result) (rate(controller_runtime_reconcile_total{${sel}}[$__rate_interval]))`,
        legend: "{{result}}",
      },
      {
        expr: `sum(rate(controller_runtime_reconcile_errors_total{${sel}}[$__rate_interval]))`,
        legend: "errors",
      },
    ],
  },
  {
    title: "Reconcile duration",
    description: "p50 and p99 of controller_runtime_reconcile_time_seconds.",
    unit: "s",
    targets: [0.5, 0.99].map((q) => ({
      expr: `histogram_quantile(${q}, sum by (le) (rate(controller_runtime_reconcile_time_seconds_bucket{${sel}}[$__rate_interval])))`,
      legend: `p${q * 100}`,
    })),
  },
  {
    title: "Work queue",
    description: "Keys waiting, and keys being reconciled.",
    unit: "none",
    targets: [
      { expr: `sum(workqueue_depth{${sel}})`, legend: "depth" },
      { expr: `sum(controller_runtime_active_workers{${sel}})`, legend: "in flight" },
    ],
  },
  {
    title: "Queue wait (p99)",
    description: "How long a key waits before a worker takes it.",
    unit: "s",
    targets: [
      {
        expr: `histogram_quantile(0.99, sum by (le) (rate(workqueue_queue_duration_seconds_bucket{${sel}}[$__rate_interval])))`,
        legend: "p99",
      },
    ],
  },
  {
    title: "API requests",
    description: "Requests to the API server per second, by verb and status code.",
    unit: "reqps",
    targets: [
      {
        expr: `sum by (verb, code) (rate(rest_client_requests_total{${sel}}[$__rate_interval]))`,
        legend: "{{verb}} {{code}}",
      },
    ],
  },
  {
    title: "API request duration (p99)",
    description: "By verb.",
    unit: "s",
    targets: [
      {
        expr: `histogram_quantile(0.99, sum by (le, verb) (rate(rest_client_request_duration_seconds_bucket{${sel}}[$__rate_interval])))`,
        legend: "{{verb}}",
      },
    ],
  },
  {
    title: "Applies",
    description: "Server-side applies that wrote, by kind; writes while no app changes are drift.",
    unit: "ops",
    targets: [
      {
        expr: `sum by (kind) (rate(stateless_operator_apply_total{${sel}, outcome="written"}[$__rate_interval]))`,
        legend: "{{kind}}",
      },
    ],
  },
  {
    title: "Caches",
    description: "Objects per cache, and caches without a complete list.",
    unit: "none",
    targets: [
      {
        expr: `max by (resource) (stateless_operator_informer_list_objects{${sel}})`,
        legend: "{{resource}}",
      },
      {
        expr: `count(stateless_operator_informer_synced{${sel}} == 0)`,
        legend: "not synced",
      },
    ],
  },
  {
    title: "Watches",
    description: "Seconds since each watch last delivered, and watch restarts per second.",
    unit: "s",
    targets: [
      {
        expr: `max by (resource) (stateless_operator_informer_last_event_age_seconds{${sel}})`,
        legend: "{{resource}} age",
      },
      {
        expr: `sum by (reason) (rate(stateless_operator_informer_watch_restarts_total{${sel}}[$__rate_interval]))`,
        legend: "restarts: {{reason}}",
      },
    ],
  },
  {
    title: "Memory and CPU",
    description: "Resident memory of each replica (the install's limit is 512Mi) and CPU.",
    unit: "bytes",
    targets: [
      { expr: `process_resident_memory_bytes{${sel}}`, legend: "{{pod}} RSS" },
      {
        expr: `rate(process_cpu_seconds_total{${sel}}[$__rate_interval])`,
        legend: "{{pod}} CPU (cores)",
      },
    ],
  },
];

export function renderDashboard(): Json {
  const variable = (name: string, query: string) => ({
    name,
    label: name,
    type: "query",
    datasource: { type: "prometheus", uid: "$datasource" },
    query: { query, refId: name },
    definition: query,
    refresh: 2,
    includeAll: false,
    multi: false,
  });
  return {
    title: "stateless-operator",
    uid: "stateless-operator",
    description: "Generated by `npm run generate` from scripts/install/monitoring.ts.",
    tags: ["stateless-operator", "kubernetes", "operator"],
    timezone: "browser",
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: "30s",
    time: { from: "now-6h", to: "now" },
    templating: {
      list: [
        { name: "datasource", label: "Data source", type: "datasource", query: "prometheus" },
        variable("job", "label_values(stateless_operator_build_info, job)"),
        variable("namespace", 'label_values(stateless_operator_build_info{job="$job"}, namespace)'),
      ],
    },
    panels: dashboardPanels.map((p, i) => ({
      id: i + 1,
      type: p.kind ?? "timeseries",
      title: p.title,
      description: p.description,
      datasource: { type: "prometheus", uid: "$datasource" },
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      targets: p.targets.map((t, j) => ({
        refId: String.fromCharCode(65 + j),
        expr: t.expr,
        legendFormat: t.legend,
      })),
    })),
  };
}
