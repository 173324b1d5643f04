"""Agent accounts: passwords, two-factor codes, API keys, sign-in throttling, OIDC, and the
admin's changes to agents, live on every process (docs/security.md, "Accounts").

    passwords.py  argon2 hashes; a dummy check for unknown ids, so timing does not tell them apart
    totp.py       TOTP codes (pyotp) with an injectable clock, the enrolment QR code as SVG (segno)
    throttle.py   failed sign-ins slowed and locked per account and per address (429 + Retry-After)
    apikeys.py    keys for scripts: random, shown once, stored as SHA-256, scoped to a role
    service.py    sign-in and the admin's operations on agents; every event goes to the audit seam
    audit.py      the one function account events are recorded through, with secrets taken out
    oidc.py       sign-in through a shop's OpenID Connect provider (authlib)
"""
