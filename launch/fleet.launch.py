"""Orchestrator side on a real ROS 2 install: fleet_bridge (core + API) and,
in simulation, sim_world.

    ros2 launch smartgate fleet.launch.py corridor:=huu-nghi sim:=true
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description() -> LaunchDescription:
    corridor = LaunchConfiguration("corridor")
    return LaunchDescription(
        [
            DeclareLaunchArgument("corridor", default_value="huu-nghi"),
            DeclareLaunchArgument("port", default_value="8000"),
            DeclareLaunchArgument("db", default_value="sqlite:///var/smartgate.db"),
            DeclareLaunchArgument("sim", default_value="false"),
            DeclareLaunchArgument("rtf", default_value="1.0"),
            # auto: rclpy's EventsExecutor on wall-clock time (Jazzy+), else single-threaded
            DeclareLaunchArgument("executor", default_value="auto"),
            Node(
                package="smartgate",
                executable="fleet_bridge",
                name="fleet_bridge",
                output="screen",
                arguments=[
                    "--corridor",
                    corridor,
                    "--port",
                    LaunchConfiguration("port"),
                    "--db",
                    LaunchConfiguration("db"),
                    "--sim-time",
                    LaunchConfiguration("sim"),
                    "--executor",
                    LaunchConfiguration("executor"),
                ],
            ),
            Node(
                package="smartgate",
                executable="sim_world",
                name="sim_world",
                output="screen",
                condition=IfCondition(LaunchConfiguration("sim")),
                arguments=["--corridor", corridor, "--rtf", LaunchConfiguration("rtf")],
            ),
        ]
    )
