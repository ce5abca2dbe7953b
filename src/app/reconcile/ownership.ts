// Whose a child's name is: an app writes or deletes an object only when it is absent or the app is its controller. Pure.
//
// The caches hold only objects with the operator's label (Secrets aside), so an object another
// team made under a name the app renders is not in them: reconcile looks such a name up before
// the first write (plan.ts asks for it), and this decides on what it finds. Deciding by the
// controller reference rather than by labels matters: labels are anyone's to set, while the API
// server keeps at most one controller per object, and only this app's UID marks it as ours.
//
// Every app applies with the one field manager FIELD_MANAGER, not one of its own. Per-app
// managers would let the API server refuse a second controller reference (two apps creating
// the same name in the same instant), but they would report no field conflict: the operator
// applies with force, since its fields must win over kubectl edits and other writers. And every
// existing child would have to move its managedFields entry to a new manager: an upgrade that
// leaves the old entry co-owning every field, so a field we stop setting would never be removed.
// This check decides every case the caches or a lookup can see; the one left, two apps creating
// one name at once, still converges: the next reconcile of each sees a single controller, and
// the other app is NameInUse.
import type { KubeObject, OwnerReference } from "../../runtime/object.ts";

export type Ownership =
  /** No object has the name: the app may create it. */
  | { readonly state: "absent" }
  /** Controlled by this app (its UID): the app writes it, and deletes it once not rendered. */
  | { readonly state: "ours" }
  /** Someone else's: never written, never deleted; `holder` says whose, for the status. */
  | { readonly state: "foreign"; readonly holder: string };

/** What `found` (the cached or looked-up object with the child's name, if any) means for app `uid`. */
export function ownershipOf(found: KubeObject | undefined, uid: string): Ownership {
  if (found === undefined) return { state: "absent" };
  const controller = (found.metadata?.ownerReferences ?? []).find(
    (r: OwnerReference) => r.controller === true,
  );
  if (controller !== undefined && uid !== "" && controller.uid === uid) return { state: "ours" };
  return {
    state: "foreign",
    holder:
      controller === undefined
        ? "it has no controller"
        : `it is controlled by ${controller.kind} ${controller.name}${controller.kind === "StatelessApp" ? ` (uid ${controller.uid})` : ""}`,
  };
}

/** The status message of a refused child: names the kind and the name, and whose it is. */
export const nameInUse = (kind: string, name: string, holder: string): string =>
  `${kind} ${name} already exists and is not this app's (${holder}); rename the app, the process or the binding, or remove the other object`;
