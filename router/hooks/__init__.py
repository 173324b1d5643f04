"""Outbound webhooks: what happens in the router, POSTed to the shop's own systems.

The routing scripts write each event to a capped stream in the same step as the change
(keys.hook_events; events from Python, such as a reply the channel took, go through
hook_emit.lua), so none is lost or made up. `fanout.Fanout`, in one process at a time, turns each
event into one delivery per webhook that wants its type, numbered per conversation.
`delivery.HookSender`, in every process, POSTs them: signed, retried with backoff, in order per
(webhook, conversation), dead-lettered after `webhook_delivery.max_attempts`, and never in the way
of routing. docs/channels.md ("Outbound webhooks") and docs/security.md (SSRF, signatures).
"""
