"""Settings: the YAML config, its `KEFU_*` overrides, and the built-in demo."""
