// The StatelessApp API's identity: group, version, kind and resource names.

export const GROUP = "twelvefactor.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "StatelessApp";
export const LIST_KIND = "StatelessAppList";
export const PLURAL = "statelessapps";
export const SINGULAR = "statelessapp";
export const SHORT_NAMES = ["sapp"] as const;
export const CATEGORIES = ["all"] as const;

/** The field manager of every write the operator makes. */
export const FIELD_MANAGER = "stateless-operator";

/** Where binding projections are mounted unless the user sets SERVICE_BINDING_ROOT. */
export const SERVICE_BINDING_ROOT = "/bindings";
