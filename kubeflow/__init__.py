"""KFP v2 compilation, schedules and the container image definition."""
