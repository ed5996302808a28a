import { fork } from "node:child_process"; import autocannon from "autocannon";
for (const mode of ["bare", "hooks", "bare", "hooks"]) {
  const c = fork("./hooks-tmp.cjs", [mode]); await new Promise((r) => c.once("message", r));
  await autocannon({ url: "http://127.0.0.1:18093/health", connections: 50, amount: 20000 });
  const cpu = () => new Promise((r) => { c.once("message", r); c.send("cpu"); });
  const a = await cpu(); const n = 100000;
  const res = await autocannon({ url: "http://127.0.0.1:18093/health", connections: 50, amount: n });
  const b = await cpu();
  console.log(mode, ((b.user + b.system - a.user - a.system) / n).toFixed(2), "µs/req", Math.round(res.requests.average), "req/s");
  c.kill(); await new Promise((r) => setTimeout(r, 300));
}
