"""Session fixtures for the test tiers: each real component lives in its own plugin."""

pytest_plugins = [
    "fixtures.controlplane",
    "fixtures.nodeagent",
    "fixtures.s3",
    "fixtures.postgres",
    "fixtures.tracker",
    "fixtures.faultproxy",
    "fixtures.image",
]
