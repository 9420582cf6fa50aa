"""The guide vehicle's onboard logic and kinematics, pure: the ROS node and the simulator
both run it."""
