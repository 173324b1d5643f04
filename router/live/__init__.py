"""What admins edit while the router runs: pools, business hours, shifts, quick replies, FAQ.

Each kind is a YAML document versioned in Redis like the rules (kinds.py says how each is
checked, versions.py keeps the versions, sync.py makes every process follow the active ones,
apply.py puts them in place). The config files seed an empty Redis; after that Redis holds the
truth, and `kefu export-config` writes it back (docs/admin.md).
"""
