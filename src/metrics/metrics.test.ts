import { expect, test } from "bun:test";
import { createMetrics } from "./metrics";

test("request durations: a value on a bucket's bound counts in that bucket; buckets are cumulative; series apart", async () => {
  const { registry, httpDuration } = createMetrics();
  for (const seconds of [0.005, 0.0051, 0.3, 11]) httpDuration.observe("GET", "/", 200, seconds);
  httpDuration.observe("POST", "/login", 403, 0.02);
  const text = await registry.metrics();
  const of = (labels: string) =>
    Object.fromEntries(
      text
        .split("\n")
        .filter((l) => l.startsWith("medianest_http_request_duration_seconds_") && l.includes(labels))
        .map((l) => [
          l.slice(0, l.indexOf(" ")).replace(labels, "").replace(/,?}$/, "}").replace("{}", ""),
          Number(l.split(" ")[1]),
        ]),
    );
  expect(of('method="GET",route="/",status="200"')).toEqual({
    'medianest_http_request_duration_seconds_bucket{le="0.005"}': 1,
    'medianest_http_request_duration_seconds_bucket{le="0.01"}': 2,
    'medianest_http_request_duration_seconds_bucket{le="0.025"}': 2,
    'medianest_http_request_duration_seconds_bucket{le="0.05"}': 2,
    'medianest_http_request_duration_seconds_bucket{le="0.1"}': 2,
    'medianest_http_request_duration_seconds_bucket{le="0.25"}': 2,
    'medianest_http_request_duration_seconds_bucket{le="0.5"}': 3,
    'medianest_http_request_duration_seconds_bucket{le="1"}': 3,
    'medianest_http_request_duration_seconds_bucket{le="2.5"}': 3,
    'medianest_http_request_duration_seconds_bucket{le="5"}': 3,
    'medianest_http_request_duration_seconds_bucket{le="10"}': 3,
    'medianest_http_request_duration_seconds_bucket{le="+Inf"}': 4,
    medianest_http_request_duration_seconds_sum: 0.005 + 0.0051 + 0.3 + 11,
    medianest_http_request_duration_seconds_count: 4,
  });
  expect(of('method="POST",route="/login",status="403"')).toMatchObject({
    medianest_http_request_duration_seconds_count: 1,
    medianest_http_request_duration_seconds_sum: 0.02,
  });
  expect(text).toContain("# TYPE medianest_http_request_duration_seconds histogram");

  // The JSON form carries every label on each value, like prom-client's own histograms.
  const json = (await registry.getMetricsAsJSON()).find((m) => m.name === "medianest_http_request_duration_seconds")!;
  expect(json.values).toContainEqual({
    metricName: "medianest_http_request_duration_seconds_count",
    value: 1,
    labels: { method: "POST", route: "/login", status: "403" },
  } as never);
  registry.resetMetrics();
  expect(await registry.metrics()).not.toContain("medianest_http_request_duration_seconds_count");

  // A series' kept child still counts after a reset.
  httpDuration.observe("GET", "/", 200, 0.2);
  expect(await registry.metrics()).toContain(
    'medianest_http_request_duration_seconds_count{method="GET",route="/",status="200"} 1',
  );
});
