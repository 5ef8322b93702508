"""What the engine tests share: the static token their runs report with, and its user."""

TOKEN, USER = "engine-runner-token", "wdl-runner"
