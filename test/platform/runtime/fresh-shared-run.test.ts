/**
 * FreshSharedRun's rules: a caller is answered by a run that started after it called; callers that
 * arrive while a run is under way share the next one; a failure reaches everyone who shared the run,
 * and the next call runs again.
 */
import { describe, expect, it } from "vitest";
import { FreshSharedRun } from "../../../src/platform/runtime/fresh-shared-run.js";

/** A task whose runs the test ends by hand, recording each run's argument. */
function controlledTask() {
  const runs: { argument: number; resolve: (value: string) => void; reject: (error: Error) => void }[] = [];
  const task = (argument: number) =>
    new Promise<string>((resolve, reject) => {
      runs.push({ argument, resolve, reject });
    });
  return { runs, task };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("FreshSharedRun", () => {
  it("costs a caller alone one run, every time", async () => {
    let count = 0;
    const shared = new FreshSharedRun(async (n: number) => `run ${++count} for ${n}`);
    expect(await shared.run(1)).toBe("run 1 for 1");
    expect(await shared.run(2)).toBe("run 2 for 2");
    expect(count).toBe(2);
  });

  it("gives callers that arrive during a run one fresh run after it, not the run under way", async () => {
    const { runs, task } = controlledTask();
    const shared = new FreshSharedRun(task, (a, b) => Math.max(a, b));
    const first = shared.run(1);
    const second = shared.run(5);
    const third = shared.run(3);
    await settle();
    expect(runs.map((r) => r.argument)).toEqual([1]); // the late callers do not start a run of their own yet
    runs[0]!.resolve("first");
    expect(await first).toBe("first");
    await settle();
    expect(runs.map((r) => r.argument)).toEqual([1, 5]); // one run for both, with the merged argument
    runs[1]!.resolve("second");
    expect(await Promise.all([second, third])).toEqual(["second", "second"]);
  });

  it("gives a failure to everyone who shared the run, and runs again on the next call", async () => {
    const { runs, task } = controlledTask();
    const shared = new FreshSharedRun(task);
    const first = shared.run(1);
    const waiting = [shared.run(2), shared.run(3)];
    runs[0]!.resolve("ok");
    await first;
    await settle();
    runs[1]!.reject(new Error("database away"));
    for (const waiter of waiting) await expect(waiter).rejects.toThrow("database away");
    const retry = shared.run(4);
    await settle();
    expect(runs).toHaveLength(3);
    runs[2]!.resolve("back");
    expect(await retry).toBe("back");
  });

  it("starts afresh after a failed run with no one waiting", async () => {
    let fail = true;
    const shared = new FreshSharedRun(async () => {
      if (fail) throw new Error("once");
      return "fine";
    });
    await expect(shared.run(0)).rejects.toThrow("once");
    fail = false;
    expect(await shared.run(0)).toBe("fine");
  });

  it("says when it is idle: after the last run, with no one waiting", async () => {
    const { runs, task } = controlledTask();
    let idle = 0;
    const shared = new FreshSharedRun(task, undefined, () => idle++);
    const first = shared.run(1);
    const second = shared.run(2);
    runs[0]!.resolve("a");
    await first;
    await settle();
    expect(idle).toBe(0); // the second run is under way
    runs[1]!.resolve("b");
    await second;
    await settle();
    expect(idle).toBe(1);
  });
});
