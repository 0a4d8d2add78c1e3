"""fluid's in-graph learning-rate schedules, one module each, registered by fluid name (:mod:`.registry`)."""
