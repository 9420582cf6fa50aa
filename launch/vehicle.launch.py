"""One smart guide vehicle on a real ROS 2 install.

In simulation (use_sim_time:=false on a real vehicle):
    ros2 launch smartgate vehicle.launch.py id:=hn_01 corridor:=huu-nghi use_sim_time:=true
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description() -> LaunchDescription:
    vid = LaunchConfiguration("id")
    return LaunchDescription(
        [
            DeclareLaunchArgument("id", description="vehicle id, e.g. hn_01"),
            DeclareLaunchArgument("corridor", default_value="huu-nghi"),
            DeclareLaunchArgument("use_sim_time", default_value="false"),
            DeclareLaunchArgument("heartbeat_timeout_s", default_value="2.0"),
            Node(
                package="smartgate",
                executable="guide_vehicle",
                name="guide_vehicle",
                output="screen",
                arguments=["--id", vid, "--corridor", LaunchConfiguration("corridor")],
                parameters=[
                    {
                        "use_sim_time": LaunchConfiguration("use_sim_time"),
                        "heartbeat_timeout_s": LaunchConfiguration("heartbeat_timeout_s"),
                    }
                ],
            ),
        ]
    )
