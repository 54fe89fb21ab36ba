#!/bin/sh
# Prints every test that failed and then passed on its rerun (surefire's <flakyFailure> and
# <flakyError> elements), with the first lines of what failed. Usage: flakes.sh REPORTS_DIR
dir="${1:-target/surefire-reports}"
python3 - "$dir" <<'PY'
import glob, re, sys, html
found = 0
for f in sorted(glob.glob(sys.argv[1] + "/TEST-*.xml")):
    s = open(f, encoding="utf-8", errors="replace").read()
    for case in re.finditer(r'<testcase name="([^"]*)" classname="([^"]*)"[^>]*>(.*?)</testcase>', s, re.S):
        for flake in re.finditer(r'<(flakyFailure|flakyError) message="([^"]*)"', case.group(3)):
            found += 1
            print("FLAKY: %s.%s: %s" % (case.group(2), html.unescape(case.group(1)),
                                        html.unescape(flake.group(2))[:600]))
print("flaky tests (failed once, passed on the rerun): %d" % found)
PY
