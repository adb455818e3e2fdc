#!/usr/bin/env python3
"""Checks deploy/grafana/paperchart.json: importable (an __inputs data source, a `datasource`
variable that every panel and query uses), every query names a paperchart metric the worker or
scheduler defines (crates/core/src/metrics.rs), and every PromQL expression parses: they are written
as recording rules to a temporary file that `promtool check rules` reads.

    python3 scripts/ci/check_dashboard.py            (make deploy-check runs it)
"""
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Grafana's built-in variables, as Grafana substitutes them.
GRAFANA_VARS = {"$__rate_interval": "2m", "$__interval": "1m", "$__range": "1h"}


def main():
    dashboard = json.load(open(os.path.join(ROOT, "deploy", "grafana", "paperchart.json")))
    problems = []
    if not any(i.get("pluginId") == "prometheus" for i in dashboard.get("__inputs", [])):
        problems.append("no Prometheus data source in __inputs")
    if not any(v.get("name") == "datasource" and v.get("type") == "datasource" and v.get("query") == "prometheus"
               for v in dashboard.get("templating", {}).get("list", [])):
        problems.append("no `datasource` variable of type prometheus")
    defined = set(re.findall(r'"(paperchart_[a-z_]+)"', open(os.path.join(ROOT, "crates", "core", "src", "metrics.rs")).read()))
    exprs = []
    for panel in dashboard["panels"]:
        targets = panel.get("targets", [])
        if panel.get("type") != "row" and not targets:
            problems.append(f"panel {panel.get('title')!r} has no query")
        for t in targets:
            for ds in (panel.get("datasource"), t.get("datasource")):
                if not ds or ds.get("uid") != "${datasource}":
                    problems.append(f"panel {panel['title']!r} does not use the datasource variable")
            expr = t["expr"]
            for var, value in GRAFANA_VARS.items():
                expr = expr.replace(var, value)
            if "$" in expr:
                problems.append(f"panel {panel['title']!r}: unknown variable in {t['expr']}")
            names = {re.sub(r"_(bucket|sum|count)$", "", n) for n in re.findall(r"paperchart_[a-z_]+", expr)}
            unknown = names - defined
            if not names or unknown:
                problems.append(f"panel {panel['title']!r}: no paperchart metric or unknown {sorted(unknown)}")
            exprs.append((panel["title"], expr))
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        f.write("groups:\n  - name: dashboard\n    rules:\n")
        for i, (_, expr) in enumerate(exprs):
            f.write(f"      - record: dashboard:query_{i}\n        expr: {json.dumps(expr)}\n")
    out = subprocess.run(["promtool", "check", "rules", f.name], capture_output=True, text=True)
    os.unlink(f.name)
    if out.returncode != 0:
        problems.append("promtool check rules:\n" + out.stdout + out.stderr)
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    if problems:
        return 1
    rows = sum(p.get("type") == "row" for p in dashboard["panels"])
    print(f"deploy/grafana/paperchart.json: {len(dashboard['panels']) - rows} panels in {rows} rows, "
          f"{len(exprs)} queries parse (promtool)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
