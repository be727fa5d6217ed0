"""Feature state backends shared between processes, behind the core's ``StateStore`` protocol."""
