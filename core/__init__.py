"""The bottom layer every other package may use: the workspace (one rule for paths, shared
defaults), the span layout of a data root, user errors, and process set-up for TensorFlow.

Nothing here imports TensorFlow, TFX or another lexflow package.
"""
