#!/usr/bin/env bash
# The device side on a Jetson with nothing but docker and this checkout (no Python >= 3.10, no make, no
# invoke): build the jetson image on the board, say what the container sees, measure a profile, and leave
# the results directory to judge and report anywhere (a laptop, the server image):
#   python -m artifact check --profile PROFILE --results DIR && python -m artifact report ...
#
#   docker/board-run.sh [PROFILE] [RESULTS_DIR]      (default: embedded, results/PROFILE)
#   BASE_IMAGE, REQUIREMENTS, APT_PACKAGES            the base and its build args (docker/bases.toml);
#                                                     default: the TX2's L4T R32.7.1
#   ARTIFACT_SYSFS_ROOT                               a sysfs tree to read instead of the board's /sys
#                                                     (a dry run against an EMULATED board:
#                                                     python -m artifact.device.emulation tx2 DIR)
# Before measuring: sudo nvpmodel -m 0 && sudo jetson_clocks (README, "With a board").
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-embedded}
results=${2:-results/$profile}
base=${BASE_IMAGE:-nvcr.io/nvidia/l4t-tensorflow:r32.7.1-tf2.7-py3}
requirements=${REQUIREMENTS:-requirements-l4t-r32.txt}
apt_packages=${APT_PACKAGES-python3-matplotlib}
tag=${IMAGE_TAG:-tocompress-artifact-jetson:local}

docker build -f docker/jetson/Dockerfile --build-arg BASE_IMAGE="$base" --build-arg REQUIREMENTS="$requirements" \
  --build-arg APT_PACKAGES="$apt_packages" -t "$tag" .

mkdir -p "$results"
results=$(cd "$results" && pwd)
args=(--rm --network host --user "$(id -u):$(id -g)" --group-add video -v "$results:/results")
if [ -n "${ARTIFACT_SYSFS_ROOT:-}" ]; then
  args+=(-e ARTIFACT_SYSFS_ROOT=/sysfs-root -v "$(cd "$ARTIFACT_SYSFS_ROOT" && pwd):/sysfs-root:ro")
else
  args+=(-e ARTIFACT_SYSFS_ROOT=/host -v /sys:/host/sys:ro -v /proc/cpuinfo:/host/proc/cpuinfo:ro)
fi
if docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q nvidia; then args+=(--runtime nvidia); fi
for path in /etc/nv_tegra_release /etc/nvpmodel.conf /var/lib/nvpmodel /proc/device-tree; do
  if [ -e "$path" ]; then args+=(-v "$path:/host$path:ro"); fi
done
if [ -S /run/jtop.sock ]; then args+=(-v /run/jtop.sock:/run/jtop.sock); fi
for var in ARTIFACT_ALLOW_BUSY ARTIFACT_EVAL_SAMPLES; do
  if [ -n "${!var:-}" ]; then args+=(-e "$var=${!var}"); fi
done

docker run "${args[@]}" "$tag" python3 -m artifact doctor
docker run "${args[@]}" "$tag" python3 -m artifact run --profile "$profile" --results /results
echo "board-run: $profile measured into $results; judge and report it anywhere:"
echo "  python -m artifact check --profile $profile --results $results && python -m artifact report --profile $profile --results $results"
