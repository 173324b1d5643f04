"""The message's path, in order: ingest -> stream "in" -> worker (rules, bot, assignment) ->
fan-out to the agent -> outbox -> sender -> adapter.send. Transcript and timers serve every step.
"""
