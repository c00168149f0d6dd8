#!/usr/bin/env bash
# Property fuzzing, apart from CI (the tests are #[ignore]d): a million
# cases of the scoring core by default, then the wire-level fuzzer.
#
#   KAIROS_FUZZ_CASES    cases per fuzzer (default 1,000,000)
#   KAIROS_FUZZ_SEED     seed (default fixed: runs are reproducible; a
#                        failure names the seed and chunk that found it)
#   KAIROS_FUZZ_SECONDS  stop after this long (default 3,600)
#
# Release builds: the core fuzzer takes about 15 minutes on 2 vCPUs.
set -euo pipefail
cd "$(dirname "$0")/.."

# The core: analysis, validation and assessment (tests/api/fuzz_core.rs).
cargo test --release --test api -- --ignored fuzz_core --nocapture

# The wire: requests as the server receives them (tests/api/fuzz_wire.rs).
cargo test --release --test api -- --ignored fuzz_wire --nocapture
