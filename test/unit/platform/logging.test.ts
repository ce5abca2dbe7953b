import { expect, test } from "vitest";
import { createLogger } from "../../../src/platform/logging.ts";

test("secret-bearing fields are redacted at any depth the operator logs them", () => {
  const lines: string[] = [];
  const logger = createLogger("info", { write: (line: string) => lines.push(line) }).child({
    key: "web/shop",
    reconcileId: "r1",
  });
  logger.info(
    {
      password: "hunter2",
      secret: { data: { password: "aHVudGVyMg==" }, stringData: { p: "hunter2" } },
      binding: { uri: "redis://:hunter2@redis:6379", entries: { password: "hunter2" } },
      request: { headers: { authorization: "Bearer hunter2" } },
    },
    "applied",
  );
  const [line] = lines;
  expect(line).toBeDefined();
  expect(line).not.toContain("hunter2");
  expect(line).not.toContain("aHVudGVyMg==");
  const parsed = JSON.parse(line ?? "{}");
  expect(parsed).toMatchObject({
    level: "info",
    key: "web/shop",
    reconcileId: "r1",
    msg: "applied",
    password: "[redacted]",
  });
});
