// `crd`: prints the StatelessApp CustomResourceDefinition.
import { renderCrd } from "../api/index.ts";
import type { Command } from "./io.ts";
import { toYamlDocuments } from "./yaml.ts";

export const crd: Command = async (argv, io) => {
  if (argv.length > 0) {
    io.stderr("usage: stateless-operator crd\n");
    return 2;
  }
  io.stdout(toYamlDocuments([renderCrd()]));
  return 0;
};
