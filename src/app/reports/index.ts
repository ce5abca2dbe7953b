// PolicyReports of the processes rules, and the read-only cluster inventory they (and audit) check.
export {
  discoverTargets,
  type Inventory,
  type InventoryOptions,
  listServed,
  ownedByWorkload,
  readInventory,
  type ServedTarget,
} from "./inventory.ts";
