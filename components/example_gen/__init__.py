"""OlciExampleGen: products and gridded scenes -> patch tf.Examples, split by product."""
