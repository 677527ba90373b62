"""The local Slack sandbox: a stand-in for Slack that tests and the console drive Eddy with."""

from sandbox.slack import BoltTarget, Delivery, HttpTarget, SandboxError, SlackStandIn

__all__ = ["BoltTarget", "Delivery", "HttpTarget", "SandboxError", "SlackStandIn"]
