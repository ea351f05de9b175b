#!/usr/bin/env bash
# Installs the Debian packages chaosbench needs. `install-deps.sh run`: only what building
# harness, refnode and faultfs and running the default job take (scripts/run-default.sh);
# without an argument: everything the whole test suite needs as well (the real systems,
# test and benchmark libraries, sshd, a browser). Idempotent: installs only what is
# missing; never prompts. Needs root (or sudo).
set -euo pipefail

run_packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-filesystem1.81-dev
  nlohmann-json3-dev libcli11-dev libfmt-dev libtomlplusplus-dev
  libssh-dev libzookeeper-mt-dev libhiredis-dev libfuse3-dev
  iproute2 iptables libfaketime util-linux procps fuse3
)
test_packages=(
  git
  libgtest-dev libgmock-dev libbenchmark-dev
  openssh-server
  etcd-server etcd-client
  zookeeper libslf4j-java default-jre-headless
  redis-server redis-sentinel
  python3 clang-format
  chromium
)

case "${1:-all}" in
  run) packages=("${run_packages[@]}") ;;
  all) packages=("${run_packages[@]}" "${test_packages[@]}") ;;
  *)
    echo "install-deps: unknown profile '$1' (expected 'run' or nothing)" >&2
    exit 3
    ;;
esac

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_prefix=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_prefix=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_prefix[@]}" apt-get update -qq
"${sudo_prefix[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
