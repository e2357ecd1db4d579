"""`make audit`: pip-audit over the locked dependencies (requirements.lock), with documented ignores.

Exit 1 when pip-audit reports a known vulnerability that .ci/audit-ignore.txt does not list with a
reason. When the vulnerability service cannot be reached (or has no data for some pins), print a
clear WARNING naming what was not audited and exit 0: an outage of the service must not block a
build, a real finding must.

    .venv/bin/python .ci/audit.py [requirements.lock]
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IGNORE_FILE = ROOT / ".ci" / "audit-ignore.txt"
IGNORE_LINE = re.compile(r"^(?P<id>[A-Za-z]+-[\w-]+)\s+#\s*(?P<reason>\S.*)$")


def read_ignores(path: Path) -> dict[str, str]:
    """Vulnerability id -> reason; every line must give one (`ID  # reason`)."""
    ignores: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines() if path.exists() else [], 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = IGNORE_LINE.match(line)
        if not match:
            sys.exit(
                f"{path}:{number}: write `VULN-ID  # why it does not apply` (a reason is required)"
            )
        ignores[match["id"]] = match["reason"]
    return ignores


def run_pip_audit(
    lock: Path, ignores: dict[str, str], report: Path
) -> subprocess.CompletedProcess[str]:
    """pip-audit on the hashed lock file, without installing anything; JSON to `report`."""
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "-r",
        str(lock),
        "--require-hashes",
        "--disable-pip",
    ]
    command += ["--progress-spinner", "off", "--format", "json", "-o", str(report)]
    command += [arg for vuln in ignores for arg in ("--ignore-vuln", vuln)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def summarize(data: dict, ignores: dict[str, str]) -> tuple[list[str], list[str], int]:
    """(findings, dependencies not audited, dependencies audited)."""
    findings, skipped, audited = [], [], 0
    for dep in data.get("dependencies", []):
        if dep.get("skip_reason"):
            skipped.append(str(dep["skip_reason"]))
            continue
        audited += 1
        for vuln in dep.get("vulns", []):
            if vuln["id"] in ignores or set(vuln.get("aliases", [])) & set(ignores):
                continue
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            findings.append(f"{dep['name']}=={dep['version']}: {vuln['id']} (fixed in {fixed})")
    return findings, skipped, audited


def main() -> int:
    """Audit; 1 on unexplained findings, 0 otherwise (with a warning when the audit was partial)."""
    lock = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "requirements.lock"
    ignores = read_ignores(IGNORE_FILE)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        done = run_pip_audit(lock, ignores, report)
        if not report.exists():
            reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
            print(
                f"WARNING: pip-audit could not run or reach its vulnerability service ({reason});"
                f" {lock.name} was NOT audited",
                file=sys.stderr,
            )
            return 0
        data = json.loads(report.read_text())
    findings, skipped, audited = summarize(data, ignores)
    for finding in findings:
        print(f"VULNERABLE: {finding}", file=sys.stderr)
    if skipped:
        print(
            f"WARNING: {len(skipped)} of {len(skipped) + audited} locked dependencies could not be "
            "audited (the vulnerability service is unreachable or has no data for them): "
            + "; ".join(skipped[:3])
            + (f"; and {len(skipped) - 3} more" if len(skipped) > 3 else ""),
            file=sys.stderr,
        )
    print(
        f"pip-audit: {audited} dependencies audited, {len(findings)} unexplained known "
        f"vulnerabilities, {len(ignores)} ignored with a reason, {len(skipped)} not audited"
    )
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
