"""The bot brain and its knowledge: FAQ matching, orders, quick replies, compliance.

Everything here is pure or takes its I/O as an argument, so that the router can replay a
decision and tests can run it without Redis.
"""
