// A small argument parser: long and short flags with values, and positionals.
export interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  /** Takes a value (`-f x`, `--file=x`); otherwise a boolean switch. */
  readonly value?: boolean;
  readonly repeatable?: boolean;
}

export interface ParsedArgs {
  readonly flags: ReadonlyMap<string, readonly string[]>;
  readonly positionals: readonly string[];
}

export type ArgsResult = { ok: true; args: ParsedArgs } | { ok: false; message: string };

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[]): ArgsResult {
  const flags = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const [rawName, inline] = arg.startsWith("--")
      ? splitOnce(arg.slice(2), "=")
      : [arg.slice(1), undefined];
    const spec = specs.find((s) =>
      arg.startsWith("--") ? s.name === rawName : s.short === rawName,
    );
    if (spec === undefined) return { ok: false, message: `unknown flag ${arg}` };
    let value = "true";
    if (spec.value === true) {
      const next = inline ?? argv[++i];
      if (next === undefined) return { ok: false, message: `flag --${spec.name} needs a value` };
      value = next;
    } else if (inline !== undefined) {
      return { ok: false, message: `flag --${spec.name} takes no value` };
    }
    const values = flags.get(spec.name) ?? [];
    if (values.length > 0 && spec.repeatable !== true)
      return { ok: false, message: `flag --${spec.name} given twice` };
    flags.set(spec.name, [...values, value]);
  }
  return { ok: true, args: { flags, positionals } };
}

function splitOnce(text: string, sep: string): [string, string | undefined] {
  const at = text.indexOf(sep);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

export const flag = (args: ParsedArgs, name: string): string | undefined =>
  args.flags.get(name)?.[0];
export const flags = (args: ParsedArgs, name: string): readonly string[] =>
  args.flags.get(name) ?? [];
