"""syncd: keeps SendGrid Marketing contact lists equal to segments declared in YAML files."""

__version__ = "0.1.0"
