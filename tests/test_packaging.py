"""ROS 2 packaging: package.xml, ament_python setup, and the launch files.

`launch`/`launch_ros` are not installable here, so the launch files are checked
statically: they parse, define generate_launch_description, and start only
executables that setup.py installs.
"""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import REPO


def _entry_points() -> set[str]:
    text = (REPO / "setup.py").read_text()
    return set(re.findall(r'"(\w+) = [\w.]+:\w+"', text))


def test_package_xml_is_format_3_ament_python() -> None:
    root = ET.parse(REPO / "package.xml").getroot()
    assert root.get("format") == "3"
    assert root.findtext("name") == "smartgate"
    assert root.findtext("export/build_type") == "ament_python"
    deps = {e.text for e in root.findall("exec_depend")}
    assert {"rclpy", "nav_msgs", "geometry_msgs", "std_msgs", "rosgraph_msgs"} <= deps
    assert {"smartgate_interfaces", "visualization_msgs"} <= deps
    assert (REPO / "resource" / "smartgate").exists()


def test_interface_package_is_ament_cmake_rosidl_and_builds_what_the_nodes_import() -> None:
    pkg = REPO / "interfaces" / "smartgate_interfaces"
    root = ET.parse(pkg / "package.xml").getroot()
    assert root.get("format") == "3" and root.findtext("name") == "smartgate_interfaces"
    assert root.findtext("export/build_type") == "ament_cmake"
    assert root.findtext("member_of_group") == "rosidl_interface_packages"
    cmake = (pkg / "CMakeLists.txt").read_text()
    listed = set(re.findall(r'"msg/(\w+)\.msg"', cmake))
    assert listed == {p.stem for p in (pkg / "msg").glob("*.msg")}
    # The generated package is installed into the venv by interfaces/build.sh.
    from smartgate_interfaces import msg

    assert {n for n in listed if hasattr(msg, n)} == listed
    assert msg.RouteCommand().seq == 0 and msg.VehicleState.MODE_SAFE_STOP == 5


def test_entry_points_resolve() -> None:
    import importlib

    text = (REPO / "setup.py").read_text()
    for name, target in re.findall(r'"(\w+) = ([\w.]+:\w+)"', text):
        module, func = target.split(":")
        assert callable(getattr(importlib.import_module(module), func)), name
    assert {"smartgate", "guide_vehicle", "fleet_bridge", "sim_world"} <= _entry_points()


@pytest.mark.parametrize("name", ["fleet.launch.py", "vehicle.launch.py"])
def test_launch_file_starts_installed_executables(name: str) -> None:
    tree = ast.parse((REPO / "launch" / name).read_text())
    funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "generate_launch_description" in funcs
    executables = {
        kw.value.value
        for call in ast.walk(tree)
        if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "Node"
        for kw in call.keywords
        if kw.arg == "executable" and isinstance(kw.value, ast.Constant)
    }
    assert executables and executables <= _entry_points()


def test_node_entry_points_parse_their_arguments_beside_ros_arguments() -> None:
    from smartgate.cli.processes import _parse

    argv = [
        "fleet_bridge",
        "--corridor",
        "tan-thanh",
        "--ros-args",
        "-p",
        "x:=1",
        "--",
        "--port",
        "9000",
    ]
    a = _parse(argv, port=(int, 8000), db=(str, "sqlite://"))
    assert (a.corridor, a.port, a.db) == (("tan-thanh",), 9000, "sqlite://")
    assert _parse(["sim_world"], rtf=(float, 1.0)).corridor == ("huu-nghi", "tan-thanh")
    with pytest.raises(SystemExit):
        _parse(["sim_world", "--corridor", "lao-cai"])
