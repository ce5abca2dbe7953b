#!/usr/bin/env node
// The stateless-operator command line: dispatches to one module per command.
import { readBuildInfo } from "../platform/build.ts";
import { type Command, processIo } from "./io.ts";

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  render: {
    summary: "print the objects the operator would apply for StatelessApp manifests (offline)",
    load: async () => (await import("./render.ts")).render,
  },
  run: {
    summary: "run the operator against the current kubeconfig context or in-cluster",
    load: async () => (await import("./run.ts")).run,
  },
  crd: {
    summary: "print the StatelessApp CustomResourceDefinition",
    load: async () => (await import("./crd.ts")).crd,
  },
  audit: {
    summary: "check manifests or a live cluster against the processes rules (table, JSON, SARIF)",
    load: async () => (await import("./audit.ts")).audit,
  },
  policies: {
    summary: "print the admission policies, optionally for more workload kinds",
    load: async () => (await import("./policies.ts")).policies,
  },
};

const usage = () =>
  [
    "usage: stateless-operator <command> [options]",
    "       stateless-operator --version",
    "",
    "commands:",
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`),
    "",
  ].join("\n");

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    processIo.stdout(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version") {
    const { version, commit } = readBuildInfo();
    processIo.stdout(`stateless-operator ${version} (commit ${commit}, node ${process.version})\n`);
    return 0;
  }
  const command = commands[name];
  if (command === undefined) {
    processIo.stderr(`stateless-operator: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  return (await command.load())(rest, processIo);
}

process.exitCode = await main(process.argv.slice(2));
