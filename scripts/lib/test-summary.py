#!/usr/bin/env python3
"""Sums ctest JUnit reports (ctest --output-junit) into one line, counting test cases:

    N passed, N failed, N skipped

A case that passed but printed "SKIPPED:" (tests/support/test_env.cpp, test::skip) counts as skipped;
a case that did not run (its fixture failed, a timeout) counts as failed. ctest's fixture tests
(names starting with "e2e.fleet-") are not test cases and are left out, unless they failed.
Failed and skipped cases are listed by name first. Exit 1 when anything failed or a report is missing.

    test-summary.py REPORT.xml [REPORT.xml ...]
"""
import sys
import xml.etree.ElementTree as ET


def main(paths):
    passed, failed, skipped = 0, [], []
    missing = []
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as e:
            missing.append(f"{path}: {e}")
            continue
        for case in root.iter("testcase"):
            name = case.get("name", "?")
            status = case.get("status", "")
            out = "".join(e.text or "" for e in case.iter("system-out"))
            fixture = name.startswith("e2e.fleet-")
            if status == "run":
                if fixture:
                    continue
                if "SKIPPED:" in out:
                    reason = out[out.index("SKIPPED:"):].splitlines()[0]
                    skipped.append(f"{name} ({reason})")
                else:
                    passed += 1
            elif status in ("disabled",):
                skipped.append(f"{name} (disabled)")
            else:  # fail, notrun
                failed.append(f"{name} ({status})")
    for s in skipped:
        print(f"skipped: {s}")
    for f in failed:
        print(f"FAILED: {f}")
    for m in missing:
        print(f"FAILED: no test report {m}")
    print(f"{passed} passed, {len(failed) + len(missing)} failed, {len(skipped)} skipped")
    return 1 if failed or missing else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
