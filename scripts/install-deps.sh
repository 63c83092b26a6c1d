#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of trailwatch from Debian 12 packages.
# Idempotent: does nothing (not even `apt-get update`) when everything is already installed.
# Runs as root, or through sudo when available.
set -euo pipefail

PACKAGES=(
  # Toolchain.
  g++ cmake ninja-build pkg-config ca-certificates
  # Libraries (docs/architecture.md § Dependencies says what each is for).
  libsimdjson-dev nlohmann-json3-dev zlib1g-dev
  # OpenSSL's libcrypto: SHA-256/HMAC for SigV4 and webhook signatures (libcurl pulls it in too).
  libssl-dev
  # Live mode: Kafka client (its in-process mock cluster serves the tests), Prometheus metrics,
  # the HTTP endpoint, and libcurl, the action connectors' HTTP(S) client.
  librdkafka-dev prometheus-cpp-dev libcivetweb-dev libcurl4-openssl-dev
  # Tests and benchmarks.
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # Integration tests and benchmarks against real peers: kcat (Kafka CLI), a Prometheus server,
  # an Alertmanager.
  kcat prometheus prometheus-alertmanager
)
if [[ "${TW_WITH_LINT:-0}" == "1" ]]; then
  PACKAGES+=(clang-format-16 clang-tidy-16)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then
    SUDO=(sudo)
  else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
