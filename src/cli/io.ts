// The process edges a command sees: arguments, streams and exit code, injectable for tests.
import { readFile } from "node:fs/promises";

export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Reads a file path, or standard input for "-". */
  readonly readInput: (path: string) => Promise<string>;
}

/** A command takes its own arguments (after the command name) and returns the exit code. */
export type Command = (args: readonly string[], io: CommandIo) => Promise<number>;

export const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readInput: (path) => (path === "-" ? readStdin() : readFile(path, "utf8")),
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
