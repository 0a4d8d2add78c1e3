"""The graph machinery: step counters, Switch, the IR backends, fluid's building blocks, lookup tables."""
