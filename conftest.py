"""Root test configuration. eventlet must patch the standard library before anything else
imports it, or nameko's tests hang (ARCHITECTURE.md, pitfalls)."""

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # eventlet announces its own deprecation on import
    import eventlet

eventlet.monkey_patch()

pytest_plugins = ["tests.infrastructure"]
