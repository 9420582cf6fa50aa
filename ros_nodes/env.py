"""The environment smartgate's ROS processes run in."""

from __future__ import annotations

import os


def ros_env(domain_id: int | None = None) -> dict[str, str]:
    """Environment for smartgate's ROS processes: one domain, loopback discovery."""
    env = dict(os.environ)
    if domain_id is not None:
        env["ROS_DOMAIN_ID"] = str(domain_id)
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")  # Jazzy and later
    env.setdefault("RCUTILS_COLORIZED_OUTPUT", "0")
    env["PYTHONUNBUFFERED"] = "1"
    return env
