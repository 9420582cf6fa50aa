#!/usr/bin/env bash
# Build smartgate_interfaces with colcon from the ROS 2 PyPI wheels and install it into
# the venv itself (its lib/ and site-packages), so `.venv/bin/python` imports
# `smartgate_interfaces.msg` with no setup file to source: the wheels' bootstrapper
# already puts <venv>/lib on the library path. Usage: interfaces/build.sh [VENV]
# (default .venv). Needs the colcon/ament/rosidl build wheels from requirements.txt,
# cmake and a C/C++ compiler. On a real ROS 2 install use plain `colcon build` instead.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
venv="$(cd "${1:-$repo/.venv}" && pwd)"
"$venv/bin/python" "$here/fix_wheel_cmake.py"
export PATH="$venv/bin:$PATH" CMAKE_PREFIX_PATH="$venv" AMENT_PREFIX_PATH="$venv"
cd "$repo"
"$venv/bin/colcon" --log-base build/interfaces/log build \
  --base-paths "$here" --build-base build/interfaces --install-base "$venv" --merge-install \
  --event-handlers console_cohesion- status- \
  --cmake-args -DBUILD_TESTING=OFF "-DPython3_EXECUTABLE=$venv/bin/python"
"$venv/bin/python" -c "from smartgate_interfaces.msg import RouteCommand, VehicleState; print('smartgate_interfaces: ok')"
