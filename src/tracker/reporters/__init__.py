"""Runners that report to the tracker through its trace receiver: the WDL engines."""
