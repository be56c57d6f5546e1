#!/usr/bin/env bash
# Runs one Flock benchmark: bench/run.sh NAME [args...]   (bench/run.sh with no name lists them)
#
# Builds bench/Flock.Bench in Release once, then runs the named benchmark. Python references
# (numpy / PyTorch) run with /usr/bin/python3 on Debian's single-threaded OpenBLAS (pthread build,
# one thread). Run as root, it installs missing Debian packages itself. Every benchmark prints
# key=value pairs on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# One thread everywhere, and numpy/torch bound to OpenBLAS (pthread).
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
export FLOCK_PYTHON=/usr/bin/python3

need=()
for pkg in python3-torch python3-numpy libopenblas0-pthread; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "bench/run.sh: installing ${need[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch libopenblas0-pthread >&2 \
      || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch libopenblas0-pthread >&2; }
  else
    echo "bench/run.sh: missing Debian packages ${need[*]} (run as root to install them); Python references may fail" >&2
  fi
fi

dotnet build bench/Flock.Bench/Flock.Bench.csproj -c Release -nologo -v q >&2
exec dotnet bench/Flock.Bench/bin/Release/net10.0/Flock.Bench.dll "$@"
