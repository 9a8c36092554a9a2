"""``--metrics-port``: the watch's figures in Prometheus' text format on 127.0.0.1.

A ``ThreadingHTTPServer`` in a daemon thread answers ``GET /metrics`` for as
long as the watch runs; nothing but the figures is served, and it never
listens beyond the loopback interface.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from myshift.config.watchsettings import FIGURES
from myshift.errors import UsageError
from myshift.workflows.watch.watcher import Watcher


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def prometheus_text(watcher: Watcher, target: str) -> str:
    """The exposition: current value, baseline and flagged state of every figure."""
    last = watcher.latest()
    phase, sample = last if last else (watcher.phase, None)
    flagged = {f.figure for f in watcher.flags}
    t = _label(target)
    lines = [
        "# HELP myshift_watch_value The figure over the last sampling interval.",
        "# TYPE myshift_watch_value gauge",
    ]
    for fig in FIGURES:
        value = sample.values.get(fig.name) if sample else None
        if value is not None:
            lines.append(f'myshift_watch_value{{target="{t}",figure="{fig.name}"}} {value:.6g}')
    lines += [
        "# HELP myshift_watch_baseline The figure's median before anything changed.",
        "# TYPE myshift_watch_baseline gauge",
    ]
    for fig in FIGURES:
        base = watcher.baseline.get(fig.name)
        if base is not None:
            lines.append(f'myshift_watch_baseline{{target="{t}",figure="{fig.name}"}} {base:.6g}')
    lines += [
        "# HELP myshift_watch_flagged 1 when the figure was flagged as a regression.",
        "# TYPE myshift_watch_flagged gauge",
    ]
    for fig in FIGURES:
        on = 1 if fig.name in flagged else 0
        lines.append(f'myshift_watch_flagged{{target="{t}",figure="{fig.name}"}} {on}')
    lines += [
        "# HELP myshift_watch_samples_total Samples taken by this watch.",
        "# TYPE myshift_watch_samples_total counter",
        f'myshift_watch_samples_total{{target="{t}",phase="{_label(phase)}"}} '
        f"{len(watcher.samples)}",
    ]
    return "\n".join(lines) + "\n"


class MetricsServer:
    """Serves ``prometheus_text`` on 127.0.0.1:``port`` until closed."""

    def __init__(self, port: int, watcher: Watcher, target: str) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] not in ("/metrics", "/"):
                    self.send_error(404)
                    return
                body = prometheus_text(outer.watcher, outer.target).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None  # no access log on the watch's output

        self.watcher = watcher
        self.target = target
        try:
            self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise UsageError(
                f"Cannot serve metrics on 127.0.0.1:{port}: {exc.strerror or exc}.",
                "Pick a free port for --metrics-port.",
            ) from None
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, name="myshift-metrics", daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["MetricsServer", "prometheus_text"]
