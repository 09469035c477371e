"""Everything that knows tensors: Transform's preprocessing_fn, the Keras model, run_fn, signatures.

Import `trainer.tf_env` before TensorFlow anywhere in this package: tf.Transform 1.16 needs Keras 2.
"""
