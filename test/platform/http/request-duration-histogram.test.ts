import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { RequestDurationHistogram } from "../../../src/platform/http/request-duration-histogram.js";

const BOUNDS = [0.001, 0.01, 0.1, 1];
const OBSERVATIONS: [string, string, number, number][] = [
  ["GET", "/health", 200, 0.0004],
  ["GET", "/health", 200, 0.001],
  ["GET", "/health", 200, 0.05],
  ["GET", "/iam/workspaces/:workspaceId", 404, 0.2],
  ["POST", "/iam/workspaces", 201, 3],
  ["GET", "/health", 200, 0.0099],
];

describe("request-duration histogram", () => {
  it("renders exactly what prom-client's Histogram renders for the same observations", async () => {
    const theirs = new Registry();
    const reference = new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request duration by method, route pattern and status code",
      labelNames: ["method", "route", "status_code"],
      buckets: BOUNDS,
      registers: [theirs],
    });
    const ours = new Registry();
    const histogram = new RequestDurationHistogram(BOUNDS);
    histogram.register(ours);
    for (const [method, route, status, seconds] of OBSERVATIONS) {
      reference.observe({ method, route, status_code: String(status) }, seconds);
      histogram.observe(method, route, status, seconds);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it("counts an observation on a bound into that bound's bucket, and past the last into +Inf only", async () => {
    const registry = new Registry();
    const histogram = new RequestDurationHistogram(BOUNDS);
    histogram.register(registry);
    histogram.observe("GET", "/x", 200, 0.01);
    histogram.observe("GET", "/x", 200, 7);
    const text = await registry.metrics();
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.001",method="GET",route="/x",status_code="200"} 0');
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.01",method="GET",route="/x",status_code="200"} 1');
    expect(text).toContain('http_request_duration_seconds_bucket{le="1",method="GET",route="/x",status_code="200"} 1');
    expect(text).toContain('http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/x",status_code="200"} 2');
    expect(text).toContain('http_request_duration_seconds_count{method="GET",route="/x",status_code="200"} 2');
  });
});
