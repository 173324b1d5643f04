"""The live routing rules: the holder every process decides with, versions in Redis, their sync
across processes and the routing history used by replay.
"""
