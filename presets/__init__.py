"""The shipped prompt-pair presets and effect catalogue (YAML), installed with the package."""
