"""smartgate core: pure, deterministic fleet logic with injected time and no I/O."""
