"""What every layer shares and nothing else: the exception tree and YAML read with positions.

A leaf: it imports nothing from `router`, `adapters` or `routing_rules`, so all three can use it
without `routing_rules` (the pure decision layer) reaching back into the router.
"""
