const F = require("fastify"); const { randomUUID } = require("crypto");
const mode = process.argv[2]; const a = F();
if (mode !== "bare") {
  a.addHook("onRequest", (req, rep, done) => { req.rp = req.routeOptions.url; done(); });
  a.addHook("onRequest", (req, rep, done) => { rep.header("X-Request-ID", req.id); done(); });
  a.addHook("onResponse", (req, rep, done) => { const f = { m: req.method, r: req.rp, s: rep.statusCode, d: Math.round(rep.elapsedTime * 100) / 100 }; done(); });
  a.addHook("onResponse", (req, rep, done) => { const x = rep.elapsedTime; done(); });
}
if (mode === "merged") { a[Symbol.for("x")] = 1; }
a.get("/health", async () => ({ status: "ok" }));
a.listen({ port: 18093 }).then(() => process.send?.("up"));
process.on("message", (m) => { if (m === "cpu") process.send(process.cpuUsage()); });
