"""A closed-loop Python load generator: N threads, each one request at a time on
a new connection (gunicorn's sync workers close every connection anyway).

bench/speed.py runs it pinned to the load core, for the posting runs, for the
slow servers (a fixed duration in which every started request is awaited, so a
server at 0.3 req/s is measured to the request, not to wrk's cut-off) and in
place of wrk when wrk is missing.

    python loadgen.py SPEC.json  ->  JSON on stdout

SPEC: {"port", "path", "method" ("GET"), "headers" ({}), "concurrency",
"duration" (seconds: no request starts after it), "min_requests" (0),
"post": null | "ours" | "isso", "clients": [{"token"| "author"}, ...],
"run": a name that keeps posts unique across runs on one database}.
"""

from __future__ import annotations

import http.client
import json
import random
import sys
import threading
import time
import uuid

import text


def main() -> None:
    with open(sys.argv[1]) as handle:
        spec = json.load(handle)
    concurrency = spec["concurrency"]
    results = [[] for _ in range(concurrency)]  # (status, latency seconds)
    started = time.perf_counter()
    deadline = started + spec["duration"]
    total = [0]
    lock = threading.Lock()

    def more() -> bool:
        with lock:
            if time.perf_counter() < deadline or total[0] < spec.get("min_requests", 0):
                total[0] += 1
                return True
            return False

    def request_for(n: int, i: int, rng: random.Random):
        headers = dict(spec.get("headers") or {})
        body = None
        if spec.get("post"):
            client = spec["clients"][n % len(spec["clients"])]
            # A unique tag per post, so a lost or doubled comment shows in the counts.
            words = text.comment(rng) + f"\n\n[{spec.get('run', '')} {n}.{i}]"
            headers["Content-Type"] = "application/json"
            if spec["post"] == "ours":
                headers["Authorization"] = f"Bearer {client['token']}"
                headers["Idempotency-Key"] = str(uuid.uuid4())
                body = json.dumps({"body": words})
            else:
                body = json.dumps({"text": words, "author": client["author"]})
        return spec.get("method", "POST" if body else "GET"), headers, body

    def worker(n: int) -> None:
        rng = random.Random(f"{spec.get('run', '')} {n}")
        i = 0
        while more():
            method, headers, body = request_for(n, i, rng)
            i += 1
            begin = time.perf_counter()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", spec["port"], timeout=600)
                connection.request(method, spec["path"], body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                connection.close()
            except OSError as error:
                status = f"error: {type(error).__name__}"
            results[n].append((status, time.perf_counter() - begin, time.perf_counter()))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = [r for rs in results for r in rs]
    last = max((r[2] for r in done), default=time.perf_counter())
    statuses: dict[str, int] = {}
    for status, _, _ in done:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    json.dump(
        {
            "count": len(done),
            "elapsed": last - started,
            "statuses": statuses,
            "latencies": sorted(r[1] for r in done),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
