"""The contract: one pydantic model per artifact, YAML round-trip that keeps comments, JSON Schemas, examples.

Import the pieces from their modules (`specs.yamlio.load_spec`, `specs.errors.SpecError`, ...);
this package file stays empty of imports so that `import specs.io` stays cheap.
"""
