import { Writable } from "node:stream";
import type { Bindings, ChildLoggerOptions } from "pino";
import { describe, expect, it } from "vitest";
import { LazyChildLogger, lazyChildLoggerFactory } from "../../../src/platform/logging/lazy-child-logger.js";
import { createLogger, type Logger } from "../../../src/platform/logging/logger.js";

function capturingLogger(level: "info" | "debug" = "info"): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger(level, { destination });
  return {
    logger,
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** A parent that counts the children made of it, around a real logger. */
function countingParent(logger: Logger) {
  const counter = { children: 0 };
  const parent = {
    get level() {
      return logger.level;
    },
    isLevelEnabled: (level: string) => logger.isLevelEnabled(level),
    child: (bindings: Bindings, options?: ChildLoggerOptions) => {
      counter.children++;
      return logger.child(bindings, options);
    },
  };
  return { parent, counter };
}

describe("lazy request logger", () => {
  it("makes no child logger while nothing is logged at an enabled level", () => {
    const { logger, lines } = capturingLogger("info");
    const { parent, counter } = countingParent(logger);
    const child = new LazyChildLogger(parent as never, { reqId: "r-1" }, {});
    child.debug({ route: "/health" }, "request completed");
    child.trace("nothing");
    expect(counter.children).toBe(0);
    expect(child.level).toBe("info");
    expect(lines()).toEqual([]);
  });

  it("writes through one child carrying the request's bindings once something is logged", () => {
    const { logger, lines } = capturingLogger("info");
    const { parent, counter } = countingParent(logger);
    const child = new LazyChildLogger(parent as never, { reqId: "r-2" }, {});
    child.info({ status: 200 }, "request completed");
    child.warn("second %s", "line");
    expect(counter.children).toBe(1);
    expect(lines()).toEqual([
      expect.objectContaining({ level: 30, reqId: "r-2", status: 200, msg: "request completed" }),
      expect.objectContaining({ level: 40, reqId: "r-2", msg: "second line" }),
    ]);
  });

  it("still redacts secrets, and grandchildren keep the request id", () => {
    const { logger, lines } = capturingLogger("info");
    const child = lazyChildLoggerFactory(logger, { reqId: "r-3" }, {});
    child.child({ component: "auth" }).info({ headers: { authorization: "Bearer abc" } }, "seen");
    expect(lines()[0]).toMatchObject({ reqId: "r-3", component: "auth", headers: { authorization: "[redacted]" } });
  });

  it("a route's own log level gets a real child at once", () => {
    const { logger, lines } = capturingLogger("info");
    const child = lazyChildLoggerFactory(logger, { reqId: "r-4" }, { level: "debug" });
    child.debug("shown");
    expect(lines()[0]).toMatchObject({ reqId: "r-4", level: 20, msg: "shown" });
  });
});
