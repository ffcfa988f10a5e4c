"""One way to run the engine."""
