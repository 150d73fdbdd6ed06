#!/usr/bin/env python3
"""Checks the monitoring artefacts the chart and compose ship, beside promtool's own tests:
  - every alert of the rules file has a `promtool test rules` case that expects it to fire;
  - the Grafana dashboard is JSON with a unique uid, a datasource variable every panel uses,
    and panels whose queries all name codex_pooler_* metrics and parse as PromQL (each query,
    with the Grafana variables filled in, is checked by `promtool check rules` as a recording
    rule).
Usage: check_artefacts.py RULES.yaml RULES_TEST.yaml DASHBOARD.json
Prints one line per check and a closing "N passed, N failed" line.
"""
import json
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

rules_path, tests_path, dashboard_path = sys.argv[1:4]
passed = failed = 0


def report(ok, label, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print(f"{'ok  ' if ok else 'FAIL'} {label}{': ' + detail if detail else ''}")


with open(rules_path, encoding="utf-8") as f:
    rules = yaml.safe_load(f)
alerts = [r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r]
with open(tests_path, encoding="utf-8") as f:
    unit = yaml.safe_load(f)
fired = set()
for case in unit["tests"]:
    for check in case.get("alert_rule_test", []):
        if check.get("exp_alerts"):
            fired.add(check["alertname"])
for name in alerts:
    report(name in fired, f"alert {name}", "has a firing unit test" if name in fired
           else "no promtool test expects it to fire")
report(len(alerts) == len(set(alerts)), "alert names unique")

with open(dashboard_path, encoding="utf-8") as f:
    dashboard = json.load(f)
report(dashboard.get("uid") == "codex-pooler", "dashboard uid", str(dashboard.get("uid")))
variables = {v["name"]: v for v in dashboard["templating"]["list"]}
report(variables.get("datasource", {}).get("type") == "datasource", "dashboard datasource variable")
exprs = []
for panel in dashboard["panels"]:
    if panel["type"] == "row":
        continue
    title = panel["title"]
    uses_variable = panel.get("datasource", {}).get("uid") == "${datasource}"
    targets = panel.get("targets", [])
    bad = [t["expr"] for t in targets if "codex_pooler_" not in t["expr"]]
    report(uses_variable and targets and not bad, f"panel {title!r}",
           "uses ${datasource}, queries codex_pooler_* metrics" if uses_variable and targets
           and not bad else f"datasource variable {uses_variable}, {len(targets)} targets, "
           f"{len(bad)} without a codex_pooler_ metric")
    exprs.extend((title, t["expr"]) for t in targets)

promtool = shutil.which("promtool")
if promtool is None:
    report(False, "dashboard queries parse", "promtool not found (apt-get install prometheus)")
else:
    group = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{i}",
         "expr": expr.replace("$__rate_interval", "5m").replace("$job", ".*")}
        for i, (_, expr) in enumerate(exprs)]}]}
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as tmp:
        yaml.safe_dump(group, tmp)
        tmp.flush()
        run = subprocess.run([promtool, "check", "rules", tmp.name], capture_output=True,
                             text=True)
    report(run.returncode == 0, f"dashboard queries parse ({len(exprs)} queries)",
           "" if run.returncode == 0 else (run.stdout + run.stderr).strip().splitlines()[-1])

print(f"check_artefacts: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
