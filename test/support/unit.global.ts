// vitest globalSetup of the unit project: the system packages its tests run (lua5.1), nothing else.

import { provision } from "../../tools/provision/provision.ts";

export default function setup(): void {
  provision("unit", { log: (line) => console.error(`[unit] ${line}`) });
}
