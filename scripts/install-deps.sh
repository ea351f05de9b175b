#!/usr/bin/env bash
# Installs every Debian package chaosbench needs to build, test and run.
# Idempotent: installs only what is missing; never prompts. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost1.81-dev libboost-filesystem1.81-dev
  nlohmann-json3-dev libcli11-dev libfmt-dev libtomlplusplus-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libssh-dev openssh-server
  etcd-server etcd-client
  zookeeper libzookeeper-mt-dev libslf4j-java default-jre-headless
  redis-server redis-sentinel libhiredis-dev
  iproute2 iptables libfaketime util-linux procps
  fuse3 libfuse3-dev
  python3 clang-format
  chromium
)

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
