"""The model's contract between the config and the engine: the metrics the engine
writes (:mod:`.metrics`), the run- and path-level inputs (:mod:`.inputs`), their
draws from a config (:mod:`.sampling`) and the plain-Python reference model
(:mod:`.reference`) every compiled kernel is checked against."""
