"""ament_python packaging: `colcon build` on a ROS 2 install and `pip install -e .` here."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "smartgate"

setup(
    name=PACKAGE,
    version="0.1.0",
    description="Fleet orchestrator for the driverless lanes of the Huu Nghi smart border gate",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(
        # bench/ is not installed: `smartgate bench` runs it from the source checkout
        include=["fleet*", "maps*", "vehicle*", "ros_nodes*", "api*", "sim_worlds*", "smartgate*"]
    ),
    package_data={
        "maps": ["*.geojson"],
        "smartgate.link.proto": ["*.pyi"],
        "smartgate.storage.migrations": ["script.py.mako"],
        "sim_worlds": ["worlds/*", "third_party/*.sdf", "scenarios/*.yaml"],
        "api": ["web/static/*", "web/package.json", "web/package-lock.json"],
    },
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/maps", glob("maps/*.geojson")),
    ],
    zip_safe=False,
    entry_points={
        "console_scripts": [
            "smartgate = smartgate.cli:main",
            "guide_vehicle = ros_nodes.guide_vehicle:main",
            "fleet_bridge = smartgate.cli.processes:orchestrator_main",
            "sim_world = smartgate.cli.processes:sim_main",
        ],
    },
)
