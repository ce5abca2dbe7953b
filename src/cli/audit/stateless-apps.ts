// StatelessApps in the input are checked as what they become: the objects the operator renders.
import { API_VERSION, formatProblem, KIND, parseStatelessApp } from "../../api/index.ts";
import { desired } from "../../app/render/index.ts";
import { isObject } from "../../app/rules/index.ts";
import { describeRef, refOf, type Subject } from "./subject.ts";

export interface Expansion {
  readonly subjects: Subject[];
  /** Apps that could not be rendered, one line each, for stderr. */
  readonly notes: string[];
}

/**
 * Adds the rendered children of every StatelessApp (the app itself stays: no rule looks at
 * it). Findings on a child point at the app's document, since the child has no source of its own.
 */
export function withRenderedApps(subjects: readonly Subject[]): Expansion {
  const out: Subject[] = [];
  const notes: string[] = [];
  for (const subject of subjects) {
    out.push(subject);
    if (subject.ref.apiVersion !== API_VERSION || subject.ref.kind !== KIND) continue;
    const app = parseStatelessApp(subject.object);
    if (!app.ok) {
      const where = subject.origin.file ?? "cluster";
      notes.push(
        `${where}: ${describeRef(subject.ref)} not rendered: ${app.error.map(formatProblem).join("; ")}`,
      );
      continue;
    }
    for (const child of desired(app.value).objects) {
      if (!isObject(child)) continue;
      out.push({
        object: child,
        ref: refOf(child),
        origin: { ...subject.origin, renderedFrom: subject.ref },
        locate: () => subject.locate([]),
      });
    }
  }
  return { subjects: out, notes };
}
