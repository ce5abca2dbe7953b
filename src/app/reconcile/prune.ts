// Which owned children an app no longer wants. Pure.
/** The little of an object pruning looks at (fits both client-node and runtime objects). */
export interface ChildRef {
  readonly kind?: string | undefined;
  readonly metadata?:
    | {
        readonly name?: string | undefined;
        readonly deletionTimestamp?: unknown;
        readonly ownerReferences?:
          | readonly { readonly uid: string; readonly controller?: boolean | undefined }[]
          | undefined;
      }
    | undefined;
}

export const childId = (o: ChildRef): string => `${o.kind}/${o.metadata?.name ?? ""}`;

/** The app is their controller: a child made by another owner with the same name is not ours. */
export const controlledBy = (o: ChildRef, uid: string): boolean =>
  (o.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid);

/**
 * Owned objects not in `keep` (ids `Kind/name`). `keep` must include children left alone on
 * purpose this time (a Deployment frozen behind a broken binding), or they would be deleted.
 */
export function staleChildren<T extends ChildRef>(
  owned: readonly T[],
  keep: ReadonlySet<string>,
  uid: string,
): T[] {
  return owned.filter(
    (o) =>
      controlledBy(o, uid) && !keep.has(childId(o)) && o.metadata?.deletionTimestamp === undefined,
  );
}
