"""Custom TFX components the standard set lacks; each has a spec, an executor and a component."""
